"""How well a short text answers a question: meaning (cosine) plus the question's rare words."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from qa.embedding import Embedder
from qa.lexical import terms
from qa.store import Store

DENSE_SHARE = 0.6  # relevance = 0.6 * cosine + 0.4 * idf-weighted coverage of the question's words


CACHE_SIZE = 4096  # sentence vectors kept: reranking and answering score the same sentences


class RelevanceScorer:
    def __init__(self, store: Store, embedder: Embedder):
        self.embedder = embedder
        self.idf = idf_table(store)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def score(self, question: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        vectors = self._vectors([question] + texts)
        cosines = vectors[1:] @ vectors[0]
        question_terms = set(terms(question))
        return [DENSE_SHARE * float(c) + (1 - DENSE_SHARE) * self.coverage(question_terms, set(terms(t)))
                for c, t in zip(cosines, texts)]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.embedder.embed(missing)))
            with self._lock:
                self._cache.update((t, found[t]) for t in missing)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def coverage(self, question_terms: set[str], text_terms: set[str]) -> float:
        if not question_terms:
            return 0.0
        weights = {t: self.idf(t) for t in question_terms}
        return sum(w for t, w in weights.items() if t in text_terms) / sum(weights.values())


def idf_table(store: Store):
    """IDF from the BM25 index's document frequencies; words the corpus lacks weigh most."""
    bm25 = store.bm25
    if bm25 is None:
        return lambda term: 1.0
    frequencies = np.diff(np.asarray(bm25.scores["indptr"]))
    total = max(len(store.bm25_ids), 1)
    vocab = bm25.vocab_dict

    def idf(term: str) -> float:
        index = vocab.get(term)
        df = int(frequencies[index]) if index is not None and index < len(frequencies) else 0
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    return idf
