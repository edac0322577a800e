"""Direct answers: the few words of the first cited extract that answer the question.

A span reader (start and end over question + extract, or "no answer" at [CLS]) fine-tuned from
the shipped MiniLM weights by `python -m bench.train_span`, shipped as int8 ONNX in qa/models/.
The span is a substring of a cited extract, so it is checkable like every citation. Shown only
when the question asks for a thing (not why or how: the extract is the explanation) and the
reader is confident (Settings.short_answer_threshold, chosen on news dev).
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from qa.answering.reader import MODELS, PairModel
from qa.errors import QAError
from qa.types import Answer, Question, ShortAnswer

MAX_SPAN_TOKENS = 16  # longer spans are explanations, which the extract already is
# A question asks for a thing when it has a wh-word anywhere ("He plays for which team?") and
# does not open by asking why or how (an explanation is the extract itself).
_ASKS_THING = re.compile(r"\b(?:who|whom|whose|what|which|when|where|how (?:many|much|long|old|far|big|large|tall|high))\b",
                         re.I)
_ASKS_EXPLANATION = re.compile(r"\s*(?:why\b|how\b(?! (?:many|much|long|old|far|big|large|tall|high)\b))", re.I)


def asks_for_a_thing(question: str) -> bool:
    return not _ASKS_EXPLANATION.match(question) and bool(_ASKS_THING.search(question))


class SpanReader(PairModel):
    name = "span-reader"

    def __init__(self, threads: int | None = None):
        path = MODELS / "span-int8.onnx"
        if not path.exists():
            raise QAError(f"the span model {path} is missing; build it: python -m bench.train_span "
                          "(or set QA_SHORT_ANSWERS=false)")
        super().__init__(path, MODELS / "span.json", "only_second", threads)

    def find(self, question: str, context: str) -> tuple[int, int, float] | None:
        """(start, end, probability) of the best answer span in context, or None when "no answer"
        is likelier than any span."""
        encoding = self.tokenizer.encode(question, context)
        start_logits, end_logits = (o.reshape(-1) for o in self.run(encoding))
        starts, ends = _log_softmax(start_logits), _log_softmax(end_logits)
        inside = [i for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)) if seq == 1 and b > a]
        best, where = starts[0] + ends[0], None  # "no answer"
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


def with_short_answer(answer: Answer, question: Question, reader: SpanReader | None, threshold: float) -> Answer:
    """The answer with its short answer: a span of its first cited extract, when the question asks
    for a thing and the reader is at least `threshold` sure; else unchanged (short_answer None)."""
    if reader is None or answer.abstained or not answer.citations or not asks_for_a_thing(question.condensed):
        return answer
    first = answer.citations[0]
    found = reader.find(question.condensed, first.quote)
    if found is None or found[2] < threshold:
        return answer
    start, end, score = found
    text = first.quote[start:end]
    span = ShortAnswer(text, first.doc_id, first.start + start, first.start + end, score)
    return replace(answer, short_answer=span)


def load_span_reader(enabled: bool) -> SpanReader | None:
    return SpanReader() if enabled else None
