"""all-MiniLM-L6-v2 through ONNX Runtime with int8 weights, made offline from the shipped
weights (sentence-transformers 6 cannot use backend="onnx" here).

At run time this imports neither torch nor transformers: the tokenizer is the model's own
tokenizer.json read by `tokenizers`, pooling and normalization are numpy. The default model's
int8 file ships in qa/models/ (embedding-int8.onnx, exactly what build_quantized makes of the
shipped weights: tests/test_embedding_contract.py rebuilds it and compares). Another base model
is exported and quantized once, with torch, into the cache folder at its first use (the first
ingest): building the default one took 22 of a fresh clone's 26 s first `qa ingest seeds/`.

Dynamic int8 quantization computes activation scales per *batch*, so a text embedded beside
others would get a slightly different vector than alone (cosine about 0.99), and a score near a
threshold could depend on what else was asked. Each text is therefore run as its own batch:
its vector depends on nothing else, and with no padding it costs no more (bench/results/perf.md).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from qa.embedding import ONNX_SUFFIX, normalized
from qa.embedding.transformer import model_dir, pool_spans
from qa.errors import QAError

DEFAULT_CACHE = Path.home() / ".cache" / "corpus-qa"  # Settings.embedding.cache_dir's default
SHIPPED = {"all-MiniLM-L6-v2": Path(__file__).resolve().parents[1] / "models" / "embedding-int8.onnx"}


def onnx_path(base_name: str, cache: Path | None = None) -> Path:
    return (cache or DEFAULT_CACHE) / f"{base_name}{ONNX_SUFFIX}.onnx"


def build_quantized(base_name: str, target: Path) -> None:
    """Export the transformer to ONNX, then quantize its weights to int8 per channel."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.embedding.transformer import load_sentence_transformer

    model = load_sentence_transformer(base_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"{target.stem}-{os.getpid()}-fp32.onnx")

    class ByName(torch.nn.Module):
        """Calls the transformer with keyword inputs: its positional order changes between versions."""

        def __init__(self, inner, names):
            super().__init__()
            self.inner, self.names = inner, names

        def forward(self, *inputs):
            return self.inner(**dict(zip(self.names, inputs))).last_hidden_state

    sample = model.tokenizer(["a sample sentence"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    transformer = ByName(model[0].auto_model.eval(), names)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(transformer, tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    quantize_dynamic(str(fp32), str(partial), per_channel=True, weight_type=QuantType.QInt8)
    os.replace(partial, target)  # atomic: a half-written model is never loaded
    fp32.unlink(missing_ok=True)


def ensure_model(base_name: str, cache: Path | None = None) -> Path:
    """The int8 model: the shipped one, else built on first need (the first ingest); a question
    never waits for it twice."""
    shipped = SHIPPED.get(base_name)
    if shipped is not None and shipped.exists():
        return shipped
    target = onnx_path(base_name, cache)
    if not target.exists():
        import logging
        import warnings

        try:
            with warnings.catch_warnings():  # the exporter's tracing notes mean nothing to a user
                warnings.simplefilter("ignore")
                logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
                build_quantized(base_name, target)
        except QAError:
            raise
        except Exception as exc:  # export failures come in many kinds; one line for the user
            raise QAError(f"cannot build the ONNX model for {base_name!r}: {str(exc).splitlines()[0]}") from None
    return target


class OnnxEmbedder:
    """Same tokenizer, pooling and normalization as the torch model, one text per run."""

    def __init__(self, name: str, batch_size: int = 32, threads: int = 0, cache: Path | None = None):
        import onnxruntime as ort


        base_name = name.removesuffix(ONNX_SUFFIX)
        folder = model_dir(base_name)
        target = ensure_model(base_name, cache)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1  # 0: every core
        # every core for an ingest's batches, but no spinning between runs: a waiting thread spun
        # for milliseconds after each question's embedding, CPU every other stage then lacked
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.max_tokens = _max_tokens(folder)
        self.dim = int(json.loads((folder / "config.json").read_text())["hidden_size"])
        self._tokenizer = _tokenizer(folder, self.max_tokens)
        self._counter = _tokenizer(folder, None)
        self.name, self.batch_size = name, batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(texts)):
            out[row] = self._embed_one(encoding)
        return normalized(out)

    def embed_with_spans(self, texts: list[str],
                         spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same pass, a vector per character span of each passage:
        the mean of the token vectors inside the span (with the passage's [CLS]/[SEP], as a text
        embedded alone has them). A sentence's vector then costs no model run of its own."""
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled = []
        for row, (encoding, text_spans) in enumerate(zip(self._tokenizer.encode_batch(texts), spans)):
            hidden = self._hidden(encoding)
            passages[row] = hidden.mean(axis=0)
            pooled.append(pool_spans(hidden, np.asarray(encoding.offsets).reshape(-1, 2),
                                     np.asarray(encoding.special_tokens_mask, dtype=bool), text_spans))
        return normalized(passages), pooled

    def _embed_one(self, encoding) -> np.ndarray:
        return self._hidden(encoding).mean(axis=0)  # no padding: every token counts

    def _hidden(self, encoding) -> np.ndarray:
        feed = {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask,
                "token_type_ids": encoding.type_ids}
        feed = {k: np.asarray([v], dtype=np.int64) for k, v in feed.items() if k in self.inputs}
        return self.session.run(None, feed)[0][0]

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text).ids)


def _max_tokens(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    return int(json.loads(config.read_text())["max_seq_length"]) if config.exists() else 512


def _tokenizer(folder: Path, max_tokens: int | None):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    if max_tokens:
        tokenizer.enable_truncation(max_tokens)
    else:
        tokenizer.no_truncation()
    return tokenizer
