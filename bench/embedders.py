"""Embedders side by side in one run: speed, batch independence, and agreement with torch.

    .venv/bin/python -m bench.embedders            # 240 XQuAD paragraphs + their sentences
    .venv/bin/python -m bench.embedders --quick    # 40 paragraphs

For each embedder: texts/s over paragraphs (median of 3 passes) and over sentences, the worst
cosine between a text embedded alone and inside a batch of others (the contract the product
needs: >= 0.9999), and the mean/min cosine to the torch reference. "onnx-int8-batched" is the
way the product embedded before (dynamic int8 quantization over padded batches of 32).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from bench.evaluate import load_dataset
from qa.embedding import normalized
from qa.embedding.onnx import OnnxEmbedder
from qa.embedding.transformer import SentenceTransformerEmbedder
from qa.text.sentences import split_sentences

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "data"


class BatchedOnnx(OnnxEmbedder):
    """The previous behaviour: padded, length-sorted batches share one quantization scale."""

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        self._tokenizer.enable_padding()
        try:
            for first in range(0, len(order), self.batch_size):
                rows = order[first:first + self.batch_size]
                encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
                feed = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                        "token_type_ids": [e.type_ids for e in encodings]}
                feed = {k: np.asarray(v, dtype=np.int64) for k, v in feed.items() if k in self.inputs}
                hidden = self.session.run(None, feed)[0]
                mask = feed["attention_mask"][..., None].astype(np.float32)
                out[rows] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        finally:
            self._tokenizer.no_padding()
        return normalized(out)


def throughput(embedder, texts: list[str], passes: int = 3) -> float:
    times = []
    for _ in range(passes):
        started = time.perf_counter()
        embedder.embed(texts)
        times.append(time.perf_counter() - started)
    return len(texts) / statistics.median(times)


def batch_independence(embedder, texts: list[str], probes: int = 20) -> float:
    """Worst cosine between embed([t]) and embed([t, *others])[row of t]."""
    together = embedder.embed(texts[:32])
    worst = 1.0
    for i in range(min(probes, len(together))):
        alone = embedder.embed([texts[i]])[0]
        worst = min(worst, float(alone @ together[i]))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    paragraphs = list(load_dataset(DATA, "xquad-en").documents.values())[: 40 if args.quick else 240]
    sentences = [p[s.start:s.end] for p in paragraphs for s in split_sentences(p)]
    name = "all-MiniLM-L6-v2"
    embedders = {"torch (reference)": SentenceTransformerEmbedder(name),
                 "onnx-int8-batched (before)": BatchedOnnx(name + "-onnx-int8"),
                 "onnx-int8-per-text (now)": OnnxEmbedder(name + "-onnx-int8")}
    reference = embedders["torch (reference)"].embed(paragraphs)
    print(f"{len(paragraphs)} paragraphs, {len(sentences)} sentences\n")
    print("| embedder | paragraphs/s | sentences/s | alone vs in batch (min cos) | vs torch (mean / min cos) |")
    print("|---|---|---|---|---|")
    for label, embedder in embedders.items():
        agreement = np.sum(embedder.embed(paragraphs) * reference, axis=1)
        print(f"| {label} | {throughput(embedder, paragraphs):.1f} | {throughput(embedder, sentences):.1f} | "
              f"{batch_independence(embedder, paragraphs):.6f} | {agreement.mean():.4f} / {agreement.min():.4f} |")


if __name__ == "__main__":
    main()
