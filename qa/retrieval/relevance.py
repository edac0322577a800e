"""How well a sentence answers a question: meaning (cosine to its stored vector) plus the
question's rare words. Sentence vectors were computed at ingest; only the question is embedded.

Neither depends on what else the corpus holds: the words are weighed by how rare they are in
English (qa.text.lexical.reference_weights), not by the corpus's IDF, so that a sentence's
relevance, the abstention threshold it is held to, and the order of the sentences of a
question's own documents stay put as unrelated documents are added (bench/results/growth.md)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from qa.store.base import DocumentTexts, StoreReader
from qa.text.lexical import reference_weights, terms, warm_word_weights
from qa.types import Hit, PassageSentence

DENSE_SHARE = 0.6  # relevance = 0.6 * cosine + 0.4 * idf-weighted coverage of the question's words


def passage_sentences(store: StoreReader, hits: list[Hit]) -> list[list[PassageSentence]]:
    """The stored sentences of each passage (a sentence in two overlapping passages appears in both)."""
    stored = store.sentences_in([(hit.doc_id, hit.start, hit.end) for hit in hits])
    return [[PassageSentence(s.doc_id, s.start, s.end, hit.text[s.start - hit.start:s.end - hit.start], hit.rank, s.row)
             for s in sentences] for hit, sentences in zip(hits, stored)]


def scored(per_hit: list[list[PassageSentence]], scorer: RelevanceScorer, question: str,
           question_vector: np.ndarray) -> list[list[PassageSentence]]:
    """Each passage's sentences with their relevance (`base`), scored in one batch."""
    flat = [s for sentences in per_hit for s in sentences]
    scores = iter(scorer.score(question, question_vector, flat))
    return [[replace(s, base=next(scores)) for s in sentences] for sentences in per_hit]


class RelevanceScorer:
    def __init__(self, store: StoreReader, term_weights: str = "english"):
        self.store = store
        self.term_weights = term_weights  # "english" (fixed) or "corpus" (the store's BM25 IDF: moves as it grows)
        if term_weights == "english":
            warm_word_weights()

    def weights(self, question: str) -> dict[str, float]:
        if self.term_weights == "corpus":
            return {t: self.store.idf(t) for t in set(terms(question))}
        return reference_weights(question)

    def score(self, question: str, question_vector: np.ndarray, sentences: list[PassageSentence]) -> list[float]:
        if not sentences:
            return []
        cosines = self.store.sentence_scores([s.row for s in sentences], question_vector)
        weights = self.weights(question)
        return [DENSE_SHARE * float(c) + (1 - DENSE_SHARE) * coverage(weights, set(terms(s.text)))
                for c, s in zip(cosines, sentences)]


def coverage(weights: dict[str, float], text_terms: set[str]) -> float:
    """Share of the question's term weight (IDF) that a text contains."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


SUPPORT_CHARS = 20_000  # of each document: a news article whole, not a book


def support_within(store: StoreReader, documents: Callable[[], Sequence[str]]) -> Callable[[str, str], float]:
    """`support(referent, rest)`: the largest share of what a follow-up asks (`rest`, its words
    without the pronoun; English-rarity weights) that one sentence of the `documents()` (the
    conversation's, read once and only when a pronoun has a choice to make) holds together with
    the referent (its rarest or its last word: a person is named in full once, then by surname).
    0 when `rest` has fewer than two words of its own: one word ("How old is he?") is found with
    any name."""
    texts = DocumentTexts(store)
    terms_of: list[set[str]] | None = None

    def sentence_terms() -> list[set[str]]:
        nonlocal terms_of
        if terms_of is None:
            spans = [(d, 0, min(len(texts(d)), SUPPORT_CHARS)) for d in documents()]
            terms_of = [set(terms(texts(s.doc_id)[s.start:s.end])) for found in store.sentences_in(spans)
                        for s in found]
        return terms_of

    def support(referent: str, rest: str) -> float:
        named = reference_weights(referent)
        asked = {t: w for t, w in reference_weights(rest).items() if t not in named}
        if not named or len(asked) < 2:
            return 0.0
        marks = {max(named, key=named.__getitem__), list(named)[-1]}
        return max((coverage(asked, found) for found in sentence_terms() if marks & found), default=0.0)

    return support


def quoted_documents(store: StoreReader, quotes: Sequence[str], per_quote: int = 3) -> tuple[str, ...]:
    """The documents that hold these quotes word for word (an earlier answer known only by its
    text, as an OpenAI client hands it back): each quote looked up by its words, then checked."""
    found: dict[str, None] = {}
    texts = DocumentTexts(store)
    spaced: dict[str, str] = {}  # each document's words one space apart, made once
    for quote in quotes:
        probe = quote.strip()[:300]
        if not probe:
            continue
        ids = [i for i, _ in store.lexical_search(probe, per_quote)]
        words = " ".join(probe.split())  # as shown, a quote's line breaks may be spaces
        for chunk in store.chunks(ids).values():
            if chunk.doc_id not in spaced:
                spaced[chunk.doc_id] = " ".join(texts(chunk.doc_id).split())
            if chunk.doc_id not in found and words in spaced[chunk.doc_id]:
                found[chunk.doc_id] = None
                break
    return tuple(found)
