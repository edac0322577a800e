"""What every answer gets once it is written, whatever wrote it: the filters named when it
abstains (the answer may be in what they leave out), its time and the notes about it, the story's
other reporters and the pages of its citations."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from qa import messages
from qa.answering.base import passage_docs
from qa.retrieval.stories import with_reporters
from qa.retrieval.timeprior import TimePrior
from qa.store import StoreReader
from qa.types import Answer, Question, page_at


def finished(answer: Answer, understood: Question, prior: TimePrior, day: date, store: StoreReader,
             fold_duplicates: bool) -> Answer:
    """The answer as every face gives it: the filters named when it abstains, its time, a note when
    nothing dated in the question's window answers, the story's other reporters (when stories are
    folded) and the pages of its citations."""
    abstention = answer.abstention
    if answer.abstained and understood.filters:
        abstention += messages.only_filtered(understood.filters.describe())
    citations = answer.citations
    if fold_duplicates:
        citations = tuple(with_reporters(list(citations), store))
    answer = replace(answer, abstention=abstention, as_of=day.isoformat(), time=prior.reading.to_json(),
                     warnings=answer.warnings + _not_placed(prior) + _outside_window(answer, prior),
                     citations=citations)
    return _with_pages(answer, store)


def _not_placed(prior: TimePrior) -> tuple[str, ...]:
    """Relative time words in a corpus whose "now" is a guess: they moved nothing, and a date would place them."""
    window = prior.reading.window
    if prior.placed or window is None:
        return ()
    return (messages.not_placed(window.words, prior.reading.as_of.isoformat()),)


def _outside_window(answer: Answer, prior: TimePrior) -> tuple[str, ...]:
    """When the question's time words point to a window and no cited report is dated in it, the
    answer says so, and says when its reports are from."""
    window = prior.window
    if answer.abstained or window is None or not prior.placed or any(prior.in_window(c.date) for c in answer.citations):
        return ()
    dates = sorted({c.date for c in answer.citations if c.date})
    return (messages.outside_window(window.start.isoformat(), window.end.isoformat(), window.words, dates),)


def _with_pages(answer: Answer, store: StoreReader) -> Answer:
    """Citations into paged documents (PDF) get their page number."""
    docs = passage_docs(answer.passages, store, {c.doc_id for c in answer.citations})
    if not any(d.pages for d in docs.values()):
        return answer
    return replace(answer, citations=tuple(replace(c, page=page_at(docs[c.doc_id].pages, c.start))
                                           if c.doc_id in docs else c for c in answer.citations))
