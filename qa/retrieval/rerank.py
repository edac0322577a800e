"""Reranking retrieved passages by their best sentence.

No cross-encoder ships its weights in a package here (see docs/models.md), so the offline
alternative re-scores each candidate at sentence level with the same relevance the answerer
uses, from the sentence vectors stored at ingest: a passage is as good as its best sentence.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.retrieval.relevance import RelevanceScorer, passage_sentences, scored
from qa.stages import stage
from qa.types import Hit


class SentenceReranker:
    def __init__(self, scorer: RelevanceScorer):
        self.scorer = scorer

    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit], prior=None) -> list[Hit]:
        """Hits by their best sentence (weighed by the time prior, when there is one), each carrying
        its scored sentences: the answerer reads those instead of building and scoring them again."""
        with stage("rerank"):
            return self._reranked(query, query_vector, hits, prior)

    def _reranked(self, query: str, query_vector: np.ndarray, hits: list[Hit], prior) -> list[Hit]:
        per_hit = scored(passage_sentences(self.scorer.store, hits), self.scorer, query, query_vector)
        best = [max((s.base for s in sentences), default=0.0) for sentences in per_hit]
        if prior is not None:
            best = [b * prior.weight(h.doc.date if h.doc else None) for b, h in zip(best, hits)]
        order = sorted(range(len(hits)), key=lambda i: (-best[i], hits[i].rank))
        return [replace(hits[i], rank=rank, score=best[i],
                        sentences=tuple(replace(s, chunk_rank=rank) for s in per_hit[i]))
                for rank, i in enumerate(order, start=1)]
