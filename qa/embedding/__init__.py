"""Embedders: one protocol, chosen by name (ONNX int8 by default, the torch model, or a test hash).

Every embedder must embed a text the same whatever else is in its batch (the contract test in
tests/test_embedding_contract.py): a question's score may not depend on what was asked before.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ONNX_SUFFIX = "-onnx-int8"
# The same model through ONNX Runtime with int8 weights, made offline from the shipped package
# once (bench/results/perf.md has its speed and quality against torch).
DEFAULT_EMBEDDING = DEFAULT_MODEL + ONNX_SUFFIX


class Embedder(Protocol):
    """What the pipeline needs of an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int | None:
        """The model's own sequence limit, special tokens included (None: no limit)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text, each independent of the others."""

    def count_tokens(self, text: str) -> int:
        """Length of text in the model's own tokenizer, special tokens included."""


def load_embedder(name: str, batch_size: int = 32, threads: int = 0, cache: Path | None = None) -> Embedder:
    """The embedder a model name means (Settings.embedding: embedding_model, embed_batch_size,
    embed_threads, cache_dir)."""
    if name == "hash":
        from qa.embedding.hashing import HashEmbedder

        return HashEmbedder()
    if name.endswith(ONNX_SUFFIX):
        from qa.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder(name, batch_size, threads, cache)
    from qa.embedding.transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name, batch_size)


def normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def embed_passages(embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]],
                   mode: str = "pooled") -> tuple[np.ndarray, list[np.ndarray]]:
    """Vectors of passages and of spans (sentences) inside them.

    "pooled": span vectors are the span's token vectors from the passage's own pass, mean-pooled
    (no extra model runs; each span read in its context), when the embedder can do it;
    "separate": each span is embedded alone, like a question is.
    """
    if mode == "pooled" and hasattr(embedder, "embed_with_spans"):
        return embedder.embed_with_spans(texts, spans)
    vectors = embedder.embed(texts)
    pieces = [text[s:e] for text, text_spans in zip(texts, spans) for s, e in text_spans]
    flat = embedder.embed(pieces) if pieces else np.zeros((0, vectors.shape[1] if len(vectors) else 0), np.float32)
    out, cursor = [], 0
    for text_spans in spans:
        out.append(flat[cursor:cursor + len(text_spans)])
        cursor += len(text_spans)
    return vectors, out
