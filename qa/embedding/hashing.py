"""A tiny deterministic embedder for unit tests: hashed bag of words, instant, no model."""
from __future__ import annotations

import hashlib
import re

import numpy as np

from qa.embedding import normalized


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
        return normalized(vectors)

    def count_tokens(self, text: str) -> int:
        return len(text.split())
