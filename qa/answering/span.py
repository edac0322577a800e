"""Direct answers: the few words of a cited extract that answer the question.

A span reader (start and end over question + extract, or "no answer" at [CLS]) fine-tuned from
the news reader's encoder by `python -m bench.train_span`, shipped as int8 ONNX in qa/models/.
Each cited extract is read; when several extracts (mostly from different outlets) give the same
words, their readings agree, and agreement is what makes a short answer worth showing: the
score is the chance that at least one reading is right, 1 - prod(1 - p), and the answer is shown
only above Settings.short_answer_threshold (chosen on news dev for precision among the short
answers shown). The span is a substring of a cited extract, so it is checkable like every
citation. Questions that ask why or how get none: the extract is the explanation.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from qa.answering.reader import MODELS, PairModel
from qa.errors import QAError
from qa.text.lexical import squad_words
from qa.types import Answer, Citation, Question, ShortAnswer

MAX_SPAN_TOKENS = 16  # longer spans are explanations, which the extract already is
# A question asks for a thing when it has a wh-word anywhere ("He plays for which team?") and
# does not open by asking why or how (an explanation is the extract itself).
_AMOUNT = "many|much|long|old|far|big|large|tall|high"  # "how long" asks for a thing, "how" alone for a way
_ASKS_THING = re.compile(rf"\b(?:who|whom|whose|what|which|when|where|how (?:{_AMOUNT}))\b", re.I)
_ASKS_EXPLANATION = re.compile(rf"\s*(?:why\b|how\b(?! (?:{_AMOUNT})\b))", re.I)


_TYPOGRAPHIC_QUOTES = str.maketrans("", "", "“”‘’")


def asks_for_a_thing(question: str) -> bool:
    return not _ASKS_EXPLANATION.match(question) and bool(_ASKS_THING.search(question))


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words without punctuation or articles (SQuAD's normalisation): how two
    readings are compared, and how a span is told from the question's own words."""
    return squad_words(text.translate(_TYPOGRAPHIC_QUOTES))


@dataclass(frozen=True)
class Reading:
    """The span one extract gives: offsets inside the extract, and the reader's probability."""

    citation: Citation
    start: int
    end: int
    probability: float

    @property
    def text(self) -> str:
        return self.citation.quote[self.start:self.end]


class SpanReader(PairModel):
    name = "span-reader"

    def __init__(self, threads: int | None = None):
        path = MODELS / "span-int8.onnx"
        if not path.exists():
            raise QAError(f"the span model {path} is missing; build it: python -m bench.train_span "
                          "(or set QA_SHORT_ANSWERS=false and QA_SPAN_CHECK_SENTENCES=0)")
        # longest_first: a question too long to leave room for the extract is cut rather than refused.
        # One thread per run and the extracts side by side: on these short inputs that is about
        # twice as fast as one run after another on two threads (15-23 vs 11 ms for three).
        super().__init__(path, MODELS / "span.json", "longest_first", 1)
        self.pool = ThreadPoolExecutor(max_workers=threads or min(4, os.cpu_count() or 1))

    def read(self, question: str, citations: list[Citation],
             candidates: list[list[tuple[int, int]]] | None = None) -> list[Reading]:
        """Each extract's best span, for those where a span is likelier than "no answer". With
        `candidates` (per extract, character spans of entities of the type the question asks
        for), the reading is the likeliest of those spans instead: the reader chooses among typed
        answers rather than any words."""
        encodings = self.tokenizer.encode_batch([(question, c.quote) for c in citations])
        readings = []
        runs = self.pool.map(self.run, encodings)
        for i, (citation, encoding, outputs) in enumerate(zip(citations, encodings, runs)):
            starts, ends = (_log_softmax(o.reshape(-1)) for o in outputs)
            if candidates is None:
                found = _best_span(encoding, starts, ends)
            else:
                found = _best_candidate(encoding, starts, ends, candidates[i])
            if found is not None:
                readings.append(Reading(citation, *found))
        return readings


    def holds_answer(self, question: str, texts: list[str]) -> list[float]:
        """For each text, the chance that some words of it answer the question: 1 - P(no answer).
        A second reader of the best sentences, trained on spans rather than whole sentences, so it
        checks that the sentence says the thing asked for, not only that it is about it."""
        encodings = self.tokenizer.encode_batch([(question, t) for t in texts])
        chances = []
        for outputs in self.pool.map(self.run, encodings):
            starts, ends = (_log_softmax(o.reshape(-1)) for o in outputs)
            chances.append(1.0 - float(np.exp(starts[0] + ends[0])))
        return chances

    def choose(self, question: str, text: str, spans: list[tuple[int, int]] | None) -> tuple[str, float] | None:
        """The words of `text` that answer `question` (among `spans` when given) with the reader's
        probability, or None: a follow-up's referent is the likeliest of several extracts' readings."""
        encoding = self.tokenizer.encode(question, text)
        starts, ends = (_log_softmax(o.reshape(-1)) for o in self.run(encoding))
        found = _best_span(encoding, starts, ends) if spans is None else _best_candidate(encoding, starts, ends, spans)
        return (text[found[0]:found[1]], found[2]) if found else None


def _best_span(encoding, starts: np.ndarray, ends: np.ndarray) -> tuple[int, int, float] | None:
    """(start, end, probability) in the extract of the likeliest span, or None when "no answer"
    (the [CLS] token) is likelier than any span."""
    inside = [i for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)) if seq == 1 and b > a]
    best, where = starts[0] + ends[0], None
    for i in inside:
        for j in inside:
            if i <= j < i + MAX_SPAN_TOKENS and starts[i] + ends[j] > best:
                best, where = starts[i] + ends[j], (i, j)
    if where is None:
        return None
    return encoding.offsets[where[0]][0], encoding.offsets[where[1]][1], float(np.exp(best))


def _best_candidate(encoding, starts: np.ndarray, ends: np.ndarray,
                    spans: list[tuple[int, int]]) -> tuple[int, int, float] | None:
    """(start, end, probability) of the likeliest of the given character spans of the extract
    (each read from the token that opens it to the token that closes it), or None when none is
    likelier than "no answer"."""
    tokens = [(i, a, b) for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets))
              if seq == 1 and b > a]
    best, none = None, float(np.exp(starts[0] + ends[0]))  # "no answer": the reader may still say so
    for start, end in spans:
        inside = [(i, a, b) for i, a, b in tokens if a >= start and b <= end]
        if not inside:
            continue  # cut off by the reader's length limit
        first, last = inside[0][0], inside[-1][0]
        probability = float(np.exp(starts[first] + ends[last]))
        if probability > none and (best is None or probability > best[2]):
            best = (start, end, probability)
    return best


def _log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max()
    return shifted - np.log(np.exp(shifted).sum())


def agreed(question: str, readings: list[Reading]) -> ShortAnswer | None:
    """The words the readings agree on most, placed in the first cited extract that gives them
    (readings of sentences that are not cited, n == 0, only corroborate). A span made only of the
    question's own words is no answer ("Which team?" -> "team")."""
    asked = set(words(question))
    groups: dict[tuple[str, ...], list[Reading]] = {}
    for reading in readings:
        key = words(reading.text)
        if key and not set(key) <= asked:
            groups.setdefault(key, []).append(reading)
    scored = [(1 - float(np.prod([1 - r.probability for r in group])), next(r for r in group if r.citation.n))
              for group in groups.values() if any(r.citation.n for r in group)]
    if not scored:
        return None
    score, first = max(scored, key=lambda s: s[0])
    c = first.citation
    return ShortAnswer(first.text, c.doc_id, c.start + first.start, c.start + first.end, score, c.n)


def typed_candidates(question: Question, citations: list[Citation]) -> list[list[tuple[int, int]]] | None:
    """Per extract, the entities of the type the question asks for (not its own names), as
    character spans of the extract; None when the question has no typed expectation."""
    if not question.expects:
        return None
    from qa.answering.extractive import answer_entities

    return [[(e.start, e.end) for e in answer_entities(question, c.quote)] for c in citations]


def corroborating(answer: Answer, count: int) -> list[Citation]:
    """The best-scored sentences of the passages read that are not cited (and do not overlap a
    citation), as extracts numbered 0: their readings can agree with the cited ones, never be shown."""
    if count <= 0:
        return []
    cited = [(c.doc_id, c.start, c.end) for c in answer.citations]
    found = sorted((s for s in answer.scored if not any(d == s.doc_id and a < s.end and s.start < b
                                                        for d, a, b in cited)), key=lambda s: -s.score)
    return [Citation(0, s.doc_id, "", "", None, None, s.start, s.end, s.text, s.score) for s in found[:count]]


def with_short_answer(answer: Answer, question: Question, reader: SpanReader | None, threshold: float,
                      corroborators: int = 0) -> Answer:
    """The answer with its short answer when the question asks for a thing and the readings of
    its extracts agree at least `threshold`; else unchanged (short_answer None). A typed question
    ("when", "how many", "which official") is answered only by an entity of its type."""
    if reader is None or answer.abstained or not answer.citations or not asks_for_a_thing(question.condensed):
        return answer
    extracts = list(answer.citations) + corroborating(answer, corroborators)
    candidates = typed_candidates(question, extracts)
    if candidates is not None and not any(candidates[:len(answer.citations)]):
        candidates = None  # none of its type in the extracts ("where": "at his dacha"): any words may answer
    readings = [r for r in reader.read(question.condensed, extracts, candidates) if _stated_by_claim(answer, r)]
    short = agreed(question.condensed, readings)
    if short is None or short.score < threshold:
        return answer
    return replace(answer, short_answer=short)


def _stated_by_claim(answer: Answer, reading: Reading) -> bool:
    """A cited extract's reading counts only when the answer's own words that cite the extract say
    it too: an LLM's claim pinned to an extract that does not state it ("two weeks [2]" where [2]
    says "almost a year") yields no short answer from that extract, whatever the reader's scores.
    An extractive part is its extract, so there every reading is stated. Corroborating sentences
    (n == 0) are not cited: they only add weight to a reading that is."""
    n = reading.citation.n
    if not n:
        return True
    said = words(reading.text)
    return any(_contiguous(said, words(part.text)) for segment in answer.segments for part in segment.parts
               if n in part.cites)


def _contiguous(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    return bool(needle) and any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def load_span_reader(enabled: bool) -> SpanReader | None:
    return SpanReader() if enabled else None
