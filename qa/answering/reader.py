"""The learned reader: how likely a sentence is to hold the answer to a question.

A cross-encoder fine-tuned from the shipped MiniLM weights, shipped as int8 ONNX in qa/models/
(model cards in qa/models/README.md): `news-reader` (the default: XQuAD-en and COVID-QA train
parts plus the RealTimeQA news train split, `python -m bench.train_reader --news`) or
`minilm-reader` (without the news). It reads question and sentence together, so it can tell a
sentence that answers from one that is only about the same people and things. Chosen by
QA_READER (`none` switches it off). Each pair runs on its own, so a score never depends on what
else is scored with it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.stages import stage

MODELS = Path(__file__).resolve().parent.parent / "models"
READERS = {"minilm-reader": ("reader-int8.onnx", "reader.json"),
           "news-reader": ("reader-news-int8.onnx", "reader-news.json")}


class PairModel:
    """An int8 ONNX model over (question, text) pairs with the shipped MiniLM tokenizer: what the
    sentence reader and the span reader share. Each pair runs on its own."""

    def __init__(self, weights: Path, card: Path, truncation: str, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from qa.embedding.transformer import model_dir

        meta = json.loads(card.read_text())
        options = ort.SessionOptions()
        # One thread a run: a pair is too small to share, and a second thread spins between runs,
        # which doubled the CPU of every stage of an answer on 2 cores (bench/results/stages.md).
        # Answers run side by side in their lane instead.
        options.intra_op_num_threads = threads or 1
        self.session = ort.InferenceSession(str(weights), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(model_dir("all-MiniLM-L6-v2") / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(meta["max_length"]), strategy=truncation)

    def run(self, encoding) -> list[np.ndarray]:
        """The model's outputs for one encoded pair. Pairs run one at a time on purpose: int8
        dynamic quantization scales activations over the whole batch, so a pair padded into a
        batch reads differently from the same pair alone (a span's probability moved by 0.07)."""
        feed = {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask,
                "token_type_ids": encoding.type_ids}
        return self.session.run(None, {k: np.asarray([v], dtype=np.int64) for k, v in feed.items() if k in self.inputs})


def reader_files(name: str) -> tuple[Path, Path]:
    """The model file and its card: a shipped reader by name, or a candidate by path (QA_READER=
    path/to/reader-news-int8.onnx, its card the .json beside it: bench.train_reader --out writes both)."""
    if name in READERS:
        weights, card = READERS[name]
        return MODELS / weights, MODELS / card
    path = Path(name).expanduser()
    cards = [path.with_suffix(".json"), path.with_name(path.name.replace("-int8.onnx", ".json"))]
    found = next((c for c in cards if c.exists()), None)
    if not path.exists() or found is None:
        raise QAError(f"the reader model {path} or its card ({cards[-1].name}) is missing")
    return path, found


class SentenceReader(PairModel):
    def __init__(self, name: str, threads: int | None = None):
        path, card = reader_files(name)
        if not path.exists():
            command = "python -m bench.train_reader" + (" --news" if name == "news-reader" else "")
            raise QAError(f"the reader model {path} is missing; build it: {command} (or set QA_READER=none)")
        # longest_first: a long sentence is cut, and so is a question too long to leave room for one
        # (only_second raised on a pasted paragraph, a 500 for a question under the length limit)
        super().__init__(path, card, "longest_first", threads)
        self.name = name

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """Probability, for each sentence, that it holds the answer."""
        logits = np.zeros(len(sentences), dtype=np.float32)
        with stage("read"):
            for i, encoding in enumerate(self.tokenizer.encode_batch([(question, s) for s in sentences])):
                logits[i] = self.run(encoding)[0].reshape(-1)[0]
        return 1.0 / (1.0 + np.exp(-logits))


def load_reader(name: str) -> SentenceReader | None:
    if name == "none":
        return None
    return SentenceReader(name)
