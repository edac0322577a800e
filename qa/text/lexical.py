"""Words for BM25 and lexical overlap: English stopwords out, Snowball stems."""
from __future__ import annotations

import re
import string
from functools import lru_cache

LEXICAL_VERSION = "en_plus+snowball-1"  # recorded in the manifest: BM25 indexes depend on it


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> list[str]:
    # The larger list: question words and contractions ("didn") must not count as content. Read
    # from bm25s's stopwords module alone: `from bm25s.stopwords import ...` runs bm25s/__init__,
    # which imports scipy.sparse, about 0.3 s of a cold `qa ask` that uses nothing else of bm25s.
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("bm25s")
    if package is None or package.origin is None:
        raise ImportError("bm25s is not installed")
    spec = importlib.util.spec_from_file_location("qa._bm25s_stopwords", Path(package.origin).with_name("stopwords.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.STOPWORDS_EN_PLUS)


def tokenize(texts: list[str]):
    """bm25s tokens (ids + vocabulary) for indexing a corpus."""
    import bm25s

    return bm25s.tokenize(texts, stopwords=_stopwords(), stemmer=_stemmer(), show_progress=False)


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern


@lru_cache(maxsize=1)
def _stopword_set() -> frozenset[str]:
    return frozenset(_stopwords())


@lru_cache(maxsize=65536)
def _terms(text: str) -> tuple[str, ...]:
    stop = _stopword_set()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return tuple(_stemmer().stemWords(words)) if words else ()


def terms(text: str) -> list[str]:
    """Stemmed content words of one text, in order, exactly as bm25s tokenizes them (tested
    against it), without its per-call overhead: answering scores hundreds of sentences."""
    return list(_terms(text))


_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_words(text: str) -> tuple[str, ...]:
    """SQuAD v1.1's answer normalisation (lower case, no ASCII punctuation, no articles), as
    words: how every benchmark compares answers to gold, and (typographic quotes dropped first)
    how two readings of a short answer are compared."""
    return tuple(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())
