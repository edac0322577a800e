"""Words for BM25 and lexical overlap: English stopwords out, Snowball stems."""
from __future__ import annotations

import re
import string
import threading
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


# How much a question's word says, from how often English uses it (wordfreq's Zipf scale: log10 of
# its frequency per billion words, 0 for a word it has never seen), never from the user's corpus:
# a corpus's own IDF moves with every document added (seeds + 4 unrelated articles moved 8 of 95
# seed answers, three from abstaining to answering: bench/results/growth.md).
UNSEEN_ZIPF = 0.0
ZIPF_TOP = 9.0  # a word's weight is ZIPF_TOP - its Zipf frequency: "qalibaf" 9, "capital" 4, "said" 2.9


@lru_cache(maxsize=65536)
def word_weight(word: str) -> float:
    """The information a lower-cased word carries in general English (not in this corpus)."""
    from wordfreq import zipf_frequency

    return ZIPF_TOP - zipf_frequency(word, "en", minimum=UNSEEN_ZIPF)


_warming: list[threading.Thread] = []


def warm_word_weights() -> None:
    """Load wordfreq's English list (about 1 s) in the background, once per process: a store
    version being opened starts it, so that the first question does not wait for it."""
    with _warm_lock:
        if not _warming:
            _warming.append(threading.Thread(target=word_weight, args=("corpus",), daemon=True, name="wordfreq"))
            _warming[0].start()


_warm_lock = threading.Lock()


def reference_weights(text: str) -> dict[str, float]:
    """Each stemmed content word of a text (as `terms` gives them) with its general-English weight
    (`word_weight`; a stem of several words weighs as its rarest)."""
    stop = _stopword_set()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    weights: dict[str, float] = {}
    for word, stem in zip(words, _stemmer().stemWords(words) if words else []):
        weights[stem] = max(weights.get(stem, 0.0), word_weight(word))
    return weights
