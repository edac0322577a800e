"""The lexical index of the local store: bm25s, scored straight from its postings."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from qa.text.lexical import terms, tokenize


def build_bm25(texts: list[str]):
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


class SavedBm25:
    """What search reads of an index bm25s saved (BM25.save): its vocabulary and its per-term score
    postings, read with json and numpy as bm25s.BM25.load reads them. Importing bm25s (scipy.sparse
    with it) cost 0.3 s of every cold `qa ask`, which uses nothing else of it."""

    def __init__(self, vocab_dict: dict[str, int], scores: dict[str, np.ndarray]):
        self.vocab_dict, self.scores = vocab_dict, scores

    @classmethod
    def load(cls, folder: Path):
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method", "lucene") in ("bm25l", "bm25+"):  # these also need their non-occurrence array
            import bm25s

            return bm25s.BM25.load(str(folder))
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        return cls(vocab, {key: np.load(folder / f"{key}.csc.index.npy", allow_pickle=False)
                           for key in ("data", "indices", "indptr")})


class Bm25Index:
    """BM25 over the chunks; `ids[p]` is the chunk id of BM25 position p."""

    def __init__(self, bm25, ids: np.ndarray):
        self.bm25 = bm25
        self.ids = ids
        if bm25 is not None:
            self._postings = tuple(np.asarray(bm25.scores[key]) for key in ("data", "indices", "indptr"))
            self._df = np.diff(self._postings[2])

    @classmethod
    def load(cls, folder, ids: np.ndarray) -> Bm25Index:
        return cls(SavedBm25.load(Path(folder)) if len(ids) else None, ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 scores summed over the query's postings only (bm25s keeps per-term scores in a
        sparse matrix). Scoring the postings directly is ~20x faster than bm25s.retrieve at 10^6
        chunks (bench/results/perf.md) and gives the same scores."""
        if self.bm25 is None:
            return []
        vocab = self.bm25.vocab_dict
        term_ids = [vocab[t] for t in terms(query) if t in vocab]
        if not term_ids:
            return []
        data, indices, indptr = self._postings
        spans = [slice(indptr[t], indptr[t + 1]) for t in term_ids]
        scores = np.bincount(np.concatenate([indices[s] for s in spans]),
                             weights=np.concatenate([data[s] for s in spans]), minlength=len(self.ids))
        if allowed is not None:  # only chunks that pass the filters
            scores[~np.isin(self.ids, allowed)] = 0.0
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by position: deterministic
        return [(int(self.ids[p]), float(scores[p])) for p in top]

    def knows(self, term: str) -> bool:
        return self.bm25 is not None and term in self.bm25.vocab_dict

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term; words the corpus lacks weigh most."""
        if self.bm25 is None:
            return 1.0
        index = self.bm25.vocab_dict.get(term)
        df = int(self._df[index]) if index is not None and index < len(self._df) else 0
        return bm25_idf(df, len(self.ids))


def bm25_idf(df: int, chunks: int) -> float:
    """BM25's inverse document frequency of a term found in `df` of `chunks` chunks (bm25s's
    Lucene form): what both lexical indexes weigh a question's words by."""
    total = max(chunks, 1)
    return math.log(1 + (total - df + 0.5) / (df + 0.5))
