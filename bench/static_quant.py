"""Static int8 activations for the shipped pair models (issue 35): the dynamic int8 models scale
each activation by the range of the whole batch, so a pair padded into a batch reads differently
from the same pair alone, and the readers must run one pair at a time. Here every
DynamicQuantizeLinear of a model becomes a QuantizeLinear with a scale and zero point fixed
once, from the activation ranges seen on news *train* pairs; a pair then reads the same alone
or in any batch, and a reader can read all its pairs in one run.

    .venv/bin/python -m bench.static_quant            # -> /tmp/reader-news-static.onnx, bench/results/static-quant.md

Agreement with today's model is measured on news *dev* pairs (Spearman of the scores, and how
often the top sentence of a question stays the top one), with the time per question of reading
8 pairs one at a time (dynamic) against one batch (static), same run.
"""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "qa" / "models"
PAIRS_PER_QUESTION = 8


def news_pairs(split: str, questions: int, seed: int = 35) -> list[list[tuple[str, str]]]:
    """Per question, its first result article's sentences that share the most words with it."""
    from bench.news import load
    from qa.text.sentences import split_sentences

    articles, kept = load(split)
    chosen = random.Random(seed).sample(kept, min(questions, len(kept)))
    groups = []
    for q in chosen:
        text = articles[q["results"][0]][2]
        words = set(q["question"].lower().split())
        sentences = [text[s.start:s.end] for s in split_sentences(text)]
        sentences.sort(key=lambda s: -len(words & set(s.lower().split())))
        if sentences:
            groups.append([(q["question"], s) for s in sentences[:PAIRS_PER_QUESTION]])
    return groups


def activation_ranges(weights: Path, pairs: list[tuple[str, str]], max_length: int) -> dict[str, tuple[float, float]]:
    """The min and max of every tensor a DynamicQuantizeLinear reads, over the pairs, one at a time."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(weights))
    watched = [n.input[0] for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    for name in watched:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    tokenizer = _tokenizer(max_length)
    inputs = {i.name for i in session.get_inputs()}
    low = {n: 0.0 for n in watched}
    high = {n: 0.0 for n in watched}
    first_watched = len(session.get_outputs()) - len(watched)
    for question, sentence in pairs:
        encoding = tokenizer.encode(question, sentence)
        feed = {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask, "token_type_ids": encoding.type_ids}
        outputs = session.run(None, {k: np.asarray([v], dtype=np.int64) for k, v in feed.items() if k in inputs})
        for name, value in zip(watched, outputs[first_watched:]):
            low[name], high[name] = min(low[name], float(value.min())), max(high[name], float(value.max()))
    return {n: (low[n], high[n]) for n in watched}


def make_static(weights: Path, ranges: dict[str, tuple[float, float]], target: Path) -> None:
    """Each DynamicQuantizeLinear(x) -> QuantizeLinear(x, scale, zero point) with fixed uint8
    parameters, computed as onnxruntime's dynamic quantization computes them from a range."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(weights))
    nodes = []
    for node in model.graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        low, high = ranges[node.input[0]]
        scale = (high - low) / 255.0 or 1.0
        zero = int(np.clip(round(-low / scale), 0, 255))
        y, y_scale, y_zero = node.output
        model.graph.initializer.extend([numpy_helper.from_array(np.array(scale, dtype=np.float32), y_scale),
                                        numpy_helper.from_array(np.array(zero, dtype=np.uint8), y_zero)])
        nodes.append(helper.make_node("QuantizeLinear", [node.input[0], y_scale, y_zero], [y], name=node.name + "_static"))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


class BatchReader:
    """The news reader's static twin, reading all of a question's pairs in one padded run."""

    def __init__(self, weights: Path):
        from qa.answering.reader import PairModel

        self.model = PairModel(weights, MODELS / "reader-news.json", "longest_first")

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        encodings = self.model.tokenizer.encode_batch([(question, s) for s in sentences])
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.asarray([getattr(e, attr) + [0] * (width - len(e.ids)) for e in encodings], dtype=np.int64)
                for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                   ("token_type_ids", "type_ids")) if name in self.model.inputs}
        logits = self.model.session.run(None, feed)[0].reshape(-1)
        return 1.0 / (1.0 + np.exp(-logits))


def _tokenizer(max_length: int):
    from tokenizers import Tokenizer

    from qa.embedding.transformer import model_dir

    tokenizer = Tokenizer.from_file(str(model_dir("all-MiniLM-L6-v2") / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length, strategy="longest_first")
    return tokenizer


def main() -> None:
    from scipy.stats import spearmanr

    from qa.answering.reader import SentenceReader

    calibration = [p for group in news_pairs("train", 150) for p in group]
    card = json.loads((MODELS / "reader-news.json").read_text())
    ranges = activation_ranges(MODELS / "reader-news-int8.onnx", calibration, int(card["max_length"]))
    target = Path("/tmp/reader-news-static.onnx")  # not shipped: it does not pay (below)
    make_static(MODELS / "reader-news-int8.onnx", ranges, target)
    dynamic = SentenceReader("news-reader")
    static = BatchReader(target)
    groups = news_pairs("dev", 150)
    a, b, same_top, alone_s, batch_s, drift = [], [], 0, [], [], 0.0
    for group in groups:
        question, sentences = group[0][0], [s for _, s in group]
        started = time.perf_counter()
        x = dynamic.score(question, sentences)
        alone_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        y = static.score(question, sentences)
        batch_s.append(time.perf_counter() - started)
        single = np.array([static.score(question, [s])[0] for s in sentences])
        drift = max(drift, float(np.abs(single - y).max()))
        a += list(x)
        b += list(y)
        same_top += int(np.argmax(x) == np.argmax(y))
    rho = spearmanr(a, b).statistic
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    text = "\n".join([
        "# Static int8 activations for the sentence reader", "",
        "`python -m bench.static_quant`: every DynamicQuantizeLinear of `reader-news-int8.onnx` fixed to the "
        f"activation range seen on {len(calibration)} news train pairs -> `reader-news-static.onnx` (not shipped).", "",
        f"- Agreement with today's model on {len(a)} news dev pairs ({len(groups)} questions, their article's "
        f"{PAIRS_PER_QUESTION} most overlapping sentences): Spearman **{rho:.3f}**; the top sentence stays the "
        f"top one for {same_top}/{len(groups)} questions.",
        f"- A pair alone against the same pair in its batch of {PAIRS_PER_QUESTION}: largest difference "
        f"{drift:.2e} (batch-independent).",
        f"- Reading a question's {PAIRS_PER_QUESTION} pairs: median {1000 * median(alone_s):.1f} ms one at a time "
        f"(dynamic) against {1000 * median(batch_s):.1f} ms in one batch (static), same run: "
        f"**{median(alone_s) / median(batch_s):.2f}×** faster.",
        "", "A batch pads every pair to the longest one, and on these 2 cores what one run instead of eight "
        "saves does not make up for the padded tokens: reading in one batch does not pay, so the shipped reader "
        "keeps reading its pairs one at a time (dynamic int8, as measured everywhere else).",
        ""])
    (ROOT / "bench" / "results" / "static-quant.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
