"""Hybrid retrieval: dense search fused with lexical (BM25) search by reciprocal rank fusion."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.retrieval.timeprior import TimePrior
from qa.store.base import StoreReader
from qa.types import Filters, Hit

CANDIDATES = 50  # per ranking: deep enough that RRF can lift a passage only one side finds


def rrf(rankings: list[tuple[list[int], float]], rrf_k: int) -> dict[int, float]:
    """Reciprocal rank fusion of ranked id lists, each with a weight."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return fused


class Retriever:
    def __init__(self, store: StoreReader, rrf_k: int = 60, dense_weight: float = 1.0, bm25_weight: float = 1.0,
                 reranker=None, rerank_candidates: int = 0):
        self.store = store
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates

    def search(self, query: str, query_vector: np.ndarray, k: int, rerank: bool = True,
               filters: Filters | None = None, prior: TimePrior | None = None) -> list[Hit]:
        """The k best passages. With a time prior, passages of the question's window are searched
        for too (so an older story cannot crowd them out of the candidates) and every score is
        weighed by its document's date."""
        depth = max(CANDIDATES, 2 * k)
        allowed = self.store.chunk_ids_matching(filters) if filters else None
        rankings = self._rankings(query, query_vector, depth, allowed)
        dense, lexical = rankings[0][0], rankings[1][0]
        timed = prior if prior is not None and prior.active else None
        within = _within(filters, timed.window_bounds()) if timed else None
        if timed and within is not None:
            inside = self.store.chunk_ids_matching(within)
            undated_day = timed.undated.isoformat() if timed.undated else None
            if timed.window is None and undated_day and (within.date_from or "") <= undated_day:
                # recency, undated documents weighed as of a recent median date: searched for too
                undated = self.store.undated_chunk_ids()
                inside = np.union1d(inside, undated if allowed is None else np.intersect1d(undated, allowed))
            if len(inside):
                rankings += self._rankings(query, query_vector, depth, inside)
        fused = rrf(rankings, self.rrf_k)
        if timed:  # every candidate's date is read: the prior may lift one from below the pool
            self._weigh(fused, timed)
        rerank = rerank and self.reranker is not None
        pool = max(k, self.rerank_candidates) if rerank else k
        top = sorted(fused, key=lambda i: (-fused[i], i))[:pool]
        if timed and rerank:  # the most relevant passages whatever their date: what abstention is judged on
            plain = rrf(rankings[:2], self.rrf_k)
            top += [i for i in sorted(plain, key=lambda i: (-plain[i], i))[:pool // 2] if i not in top]
        hits = self._hits(top, fused, dense, lexical)
        if rerank:
            hits = self.reranker.rerank(query, query_vector, hits, timed)
            if timed:
                hits = _keeping_most_relevant(hits, k)
        return hits[:k]

    def _weigh(self, fused: dict[int, float], prior: TimePrior) -> None:
        dates = self.store.chunk_dates(list(fused))
        for chunk_id in fused:
            fused[chunk_id] *= prior.weight(dates.get(chunk_id))

    def _rankings(self, query: str, query_vector: np.ndarray, depth: int,
                  allowed: np.ndarray | None) -> list[tuple[list[int], float]]:
        dense = [i for i, _ in self.store.dense_search(query_vector, depth, allowed)] if self.dense_weight else []
        lexical = [i for i, _ in self.store.lexical_search(query, depth, allowed)] if self.bm25_weight else []
        return [(dense, self.dense_weight), (lexical, self.bm25_weight)]

    def _hits(self, ids: list[int], fused: dict[int, float], dense: list[int], lexical: list[int]) -> list[Hit]:
        rows = self.store.chunks(ids)
        docs = self.store.doc_fields(sorted({r.doc_id for r in rows.values()}))
        dense_rank = {i: r for r, i in enumerate(dense, start=1)}
        bm25_rank = {i: r for r, i in enumerate(lexical, start=1)}
        hits: list[Hit] = []
        for chunk_id in ids:
            row = rows.get(chunk_id)
            if row is None or row.doc_id not in docs:  # removed by an ingest committed meanwhile
                continue
            rank = len(hits) + 1
            doc = docs[row.doc_id]
            hits.append(Hit(rank, row.chunk_id, row.doc_id, doc.title, doc.source, row.start, row.end,
                            row.text, fused[chunk_id], dense_rank.get(chunk_id), bm25_rank.get(chunk_id), doc=doc))
        return hits


def _keeping_most_relevant(hits: list[Hit], k: int) -> list[Hit]:
    """Hits in their time-weighed order, with the passage whose best sentence is the most relevant
    among the first k: a recent but weaker story may lead, never hide the one that answers."""
    if len(hits) <= k or not hits:
        return hits
    best = max(range(len(hits)), key=lambda i: (max((s.base for s in hits[i].sentences), default=0.0), -i))
    if best < k:
        return hits
    moved = hits[:k - 1] + [hits[best]] + [h for i, h in enumerate(hits[k - 1:], start=k - 1) if i != best]
    return [replace(h, rank=rank) for rank, h in enumerate(moved, start=1)]


def _within(filters: Filters | None, bounds: tuple[str, str] | None) -> Filters | None:
    """The user's filters narrowed to the prior's dates (None when nothing is left of them)."""
    if bounds is None:
        return None
    filters = filters or Filters()
    start = max(bounds[0], filters.date_from or bounds[0])
    end = min(bounds[1], filters.date_to or bounds[1])
    return replace(filters, date_from=start, date_to=end) if start <= end else None
