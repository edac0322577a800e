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
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from qa.answering.reader import MODELS, PairModel
from qa.errors import QAError
from qa.types import Answer, Citation, Question, ShortAnswer

MAX_SPAN_TOKENS = 16  # longer spans are explanations, which the extract already is
# A question asks for a thing when it has a wh-word anywhere ("He plays for which team?") and
# does not open by asking why or how (an explanation is the extract itself).
_AMOUNT = "many|much|long|old|far|big|large|tall|high"  # "how long" asks for a thing, "how" alone for a way
_ASKS_THING = re.compile(rf"\b(?:who|whom|whose|what|which|when|where|how (?:{_AMOUNT}))\b", re.I)
_ASKS_EXPLANATION = re.compile(rf"\s*(?:why\b|how\b(?! (?:{_AMOUNT})\b))", re.I)
_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’")


def asks_for_a_thing(question: str) -> bool:
    return not _ASKS_EXPLANATION.match(question) and bool(_ASKS_THING.search(question))


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words without punctuation or articles (SQuAD's normalisation): how two
    readings are compared, and how a span is told from the question's own words."""
    return tuple(w for w in text.lower().translate(_PUNCTUATION).split() if w not in ("a", "an", "the"))


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
                          "(or set QA_SHORT_ANSWERS=false)")
        # longest_first: a question too long to leave room for the extract is cut rather than refused.
        # One thread per run and the extracts side by side: on these short inputs that is about
        # twice as fast as one run after another on two threads (15-23 vs 11 ms for three).
        super().__init__(path, MODELS / "span.json", "longest_first", 1)
        self.pool = ThreadPoolExecutor(max_workers=threads or min(4, os.cpu_count() or 1))

    def read(self, question: str, citations: list[Citation]) -> list[Reading]:
        """Each extract's best span, for those where a span is likelier than "no answer"."""
        encodings = self.tokenizer.encode_batch([(question, c.quote) for c in citations])
        readings = []
        for citation, encoding, outputs in zip(citations, encodings, self.pool.map(self.run, encodings)):
            starts, ends = (o.reshape(-1) for o in outputs)
            found = _best_span(encoding, _log_softmax(starts), _log_softmax(ends))
            if found is not None:
                readings.append(Reading(citation, *found))
        return readings


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


def _log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max()
    return shifted - np.log(np.exp(shifted).sum())


def agreed(question: str, readings: list[Reading]) -> ShortAnswer | None:
    """The words the readings agree on most, placed in the first extract that gives them. A span
    made only of the question's own words is no answer ("Which team?" -> "team")."""
    asked = set(words(question))
    groups: dict[tuple[str, ...], list[Reading]] = {}
    for reading in readings:
        key = words(reading.text)
        if key and not set(key) <= asked:
            groups.setdefault(key, []).append(reading)
    if not groups:
        return None
    scored = [(1 - float(np.prod([1 - r.probability for r in group])), group[0]) for group in groups.values()]
    score, first = max(scored, key=lambda s: s[0])
    c = first.citation
    return ShortAnswer(first.text, c.doc_id, c.start + first.start, c.start + first.end, score, c.n)


def with_short_answer(answer: Answer, question: Question, reader: SpanReader | None, threshold: float) -> Answer:
    """The answer with its short answer when the question asks for a thing and the readings of
    its extracts agree at least `threshold`; else unchanged (short_answer None)."""
    if reader is None or answer.abstained or not answer.citations or not asks_for_a_thing(question.condensed):
        return answer
    short = agreed(question.condensed, reader.read(question.condensed, answer.citations))
    if short is None or short.score < threshold:
        return answer
    return replace(answer, short_answer=short)


def load_span_reader(enabled: bool) -> SpanReader | None:
    return SpanReader() if enabled else None
