"""Words for BM25 and lexical overlap: English stopwords out, Snowball stems."""
from __future__ import annotations

from functools import lru_cache

LEXICAL_VERSION = "en_plus+snowball-1"  # recorded in the manifest: BM25 indexes depend on it


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> list[str]:
    # The larger list: question words and contractions ("didn") must not count as content.
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return list(STOPWORDS_EN_PLUS)


def tokenize(texts: list[str]):
    """bm25s tokens (ids + vocabulary) for indexing a corpus."""
    import bm25s

    return bm25s.tokenize(texts, stopwords=_stopwords(), stemmer=_stemmer(), show_progress=False)


def terms(text: str) -> list[str]:
    """Stemmed content words of one text, in order, as BM25 sees them."""
    import bm25s

    return bm25s.tokenize([text], stopwords=_stopwords(), stemmer=_stemmer(), show_progress=False,
                          return_ids=False)[0]
