"""Reranking retrieved passages by their best sentence.

No cross-encoder ships its weights in a package here (see shared/MODELS.md), so the offline
alternative re-scores each candidate at sentence level with the same relevance the answerer
uses, from the sentence vectors stored at ingest: a passage is as good as its best sentence.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.retrieval.relevance import RelevanceScorer, passage_sentences
from qa.types import Hit


class SentenceReranker:
    def __init__(self, scorer: RelevanceScorer):
        self.scorer = scorer

    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit]) -> list[Hit]:
        per_hit = passage_sentences(self.scorer.store, hits)
        flat = [s for sentences in per_hit for s in sentences]
        scores = iter(self.scorer.score(query, query_vector, flat))
        best = [max((next(scores) for _ in sentences), default=0.0) for sentences in per_hit]
        order = sorted(range(len(hits)), key=lambda i: (-best[i], hits[i].rank))
        return [replace(hits[i], rank=rank, score=best[i]) for rank, i in enumerate(order, start=1)]
