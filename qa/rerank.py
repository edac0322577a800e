"""Reranking retrieved passages by their best sentence.

No cross-encoder ships its weights in a package here (see shared/MODELS.md), so the offline
alternative re-scores each candidate at sentence level with the same relevance the answerer
uses: a passage is as good as its best sentence.
"""
from __future__ import annotations

from dataclasses import replace

from qa.relevance import RelevanceScorer
from qa.sentences import split_sentences
from qa.types import Hit


class SentenceReranker:
    def __init__(self, scorer: RelevanceScorer):
        self.scorer = scorer

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        owners, texts = [], []
        for index, hit in enumerate(hits):
            for span in split_sentences(hit.text):
                owners.append(index)
                texts.append(hit.text[span.start:span.end])
        best = [0.0] * len(hits)
        for owner, score in zip(owners, self.scorer.score(query, texts)):
            best[owner] = max(best[owner], score)
        order = sorted(range(len(hits)), key=lambda i: (-best[i], hits[i].rank))
        return [replace(hits[i], rank=rank, score=best[i]) for rank, i in enumerate(order, start=1)]
