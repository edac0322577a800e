"""The answerer interface and the grounding every answer passes before any face shows it.

An answerer turns a question and retrieved passages into an Answer with structure (segments of
parts, each part citing numbered extracts). Whatever wrote it, `ground` then enforces the
invariant that makes citations checkable: document_text[start:end] == quote. A citation whose
quote is not at its offsets is moved to where the quote really is in its document, or dropped
with the parts that relied on it only; what is dropped is said in `warnings`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from qa import messages
from qa.store.base import DocFields, DocumentTexts, StoreReader
from qa.types import Answer, Citation, Hit, Part, Question, Segment


class Answerer(Protocol):
    """Every answerer (extractive, LLM, any later one) is called the same way by the engine."""

    name: str

    def answer(self, question: Question, passages: list[Hit],
               on_token: Callable[[str], None] | None = None) -> Answer:
        """An answer to `question.condensed` from `passages`; an answerer that writes prose hands
        its words to `on_token` as they arrive (one that does not ignores it)."""


def passage_docs(passages: Sequence[Hit], store: StoreReader, doc_ids: set[str]) -> dict[str, DocFields]:
    """The fields of these documents: from the passages that carry them, else from the store."""
    docs = {h.doc_id: h.doc for h in passages if h.doc is not None and h.doc_id in doc_ids}
    missing = sorted(doc_ids - docs.keys())
    return {**docs, **(store.doc_fields(missing) if missing else {})}


def ground(answer: Answer, store: StoreReader, texts: DocumentTexts | None = None) -> Answer:
    """Every citation verbatim at its offsets, or relocated, or dropped (and said so)."""
    if answer.abstained:
        return answer
    texts = texts or DocumentTexts(store)
    kept: dict[int, Citation] = {}
    warnings = list(answer.warnings)
    for citation in answer.citations:
        fixed = _grounded(citation, texts(citation.doc_id))
        if fixed is None:
            warnings.append(messages.citation_dropped(citation.n, citation.doc_id))
        else:
            kept[citation.n] = fixed
    segments = _renumber(answer.segments, kept)
    if not any(segment.parts for segment in segments):
        return replace(answer, abstained=True, citations=(), segments=(), warnings=tuple(warnings),
                       abstention=answer.abstention or messages.ABSTENTION)
    order = list(_order(segments))  # old numbers as the reader meets them
    numbers = {old: new for new, old in enumerate(order, start=1)}
    citations = tuple(replace(kept[old], n=numbers[old]) for old in order)
    renumbered = tuple(Segment(s.attribution, tuple(Part(p.text, tuple(numbers[n] for n in p.cites))
                                                    for p in s.parts)) for s in segments)
    return replace(answer, citations=citations, segments=renumbered, warnings=tuple(warnings))


def _grounded(citation: Citation, text: str | None) -> Citation | None:
    if text is None or not citation.quote:
        return None
    if 0 <= citation.start <= citation.end <= len(text) and text[citation.start:citation.end] == citation.quote:
        return citation
    found = text.find(citation.quote)
    if found < 0:
        return None
    return replace(citation, start=found, end=found + len(citation.quote))


def _renumber(segments: Sequence[Segment], kept: dict[int, Citation]) -> list[Segment]:
    """Drop markers of dropped citations, and parts left with none (they are unsupported)."""
    out = []
    for segment in segments:
        parts = []
        for part in segment.parts:
            cites = tuple(n for n in part.cites if n in kept)
            if part.cites and not cites:
                continue
            parts.append(Part(part.text, cites))
        if parts:
            out.append(Segment(segment.attribution, tuple(parts)))
    return out


def _order(segments: Sequence[Segment]):
    """Citation numbers in the order the reader meets them, each once."""
    return dict.fromkeys(n for s in segments for p in s.parts for n in p.cites)
