"""Typed value objects passed between the pipeline stages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from qa import messages
from qa.errors import InputError, UnsafeNameError

if TYPE_CHECKING:
    import numpy as np


class DatePrior(Protocol):
    """What answering needs of a question's time (qa.retrieval.timeprior.TimePrior): the share of a
    score a document of that date keeps."""

    @property
    def active(self) -> bool: ...

    def weight(self, date: str | None) -> float: ...


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def plain_name(value: str, what: str) -> str:
    """A path, document id or file name a user gives, refused (UnsafeNameError, a 400) when it
    holds NUL or another control character: no such name is ever looked up or written."""
    if _CONTROL.search(value):
        raise UnsafeNameError(messages.control_character(what, value))
    return value


@dataclass(frozen=True)
class DocFields:
    """A document's fields without its text."""

    doc_id: str
    title: str
    source: str
    outlet: str | None
    date: str | None
    origin: str = "text"
    chunks: int = 0
    pages: tuple[int, ...] = ()  # where each page starts (PDF)

    def to_json(self) -> dict:
        """A document in a list (docs/design.md): without where its pages start."""
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source, "outlet": self.outlet,
                "date": self.date, "chunks": self.chunks}


@dataclass(frozen=True)
class Document:
    """One article: `text` is what every offset points into."""

    doc_id: str
    source: str
    text: str
    title: str
    outlet: str | None = None
    date: str | None = None  # YYYY-MM-DD
    sha256: str = ""
    root: str = ""  # the folder it was ingested from (deletions are tracked per root)
    origin: str = "text"  # how `text` came from the file: "text" (decoded unchanged), "html", "pdf", ...
    pages: tuple[int, ...] = ()  # PDF: where each page starts in `text`

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding a character offset, for formats that have pages."""
        return page_at(self.pages, offset)

    def to_json(self) -> dict:
        """A document as every face gives it (REST, MCP, `qa show --json`)."""
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source, "text": self.text,
                "outlet": self.outlet, "date": self.date, "origin": self.origin, "pages": list(self.pages)}


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    import bisect

    return bisect.bisect_right(pages, offset) if pages else None


@dataclass(frozen=True)
class Span:
    """A character range [start, end) of a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, the unit that is embedded and retrieved."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"


@dataclass(frozen=True)
class Reporter:
    """Another document of the same story (a near-duplicate): shown as "also in Reuters, AP"."""

    doc_id: str
    outlet: str | None
    date: str | None

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "outlet": self.outlet, "date": self.date}


@dataclass(frozen=True)
class PassageSentence:
    """A sentence of a retrieved passage, in document offsets. Each stage that scores it returns a
    new one (dataclasses.replace): a sentence a hit carries keeps the scores it was handed on with."""

    doc_id: str
    start: int
    end: int
    text: str
    chunk_rank: int
    row: int  # of its stored vector
    base: float = 0.0  # meaning + rare words: what the reranker scored
    relevance: float = 0.0  # base + answer-type bonus
    answer_prob: float | None = None  # the reader's probability that it holds the answer
    score: float = 0.0  # what answers are chosen by


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the document fields a reader needs."""

    rank: int
    chunk_id: str
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    # read once per question and handed on, never serialised: the document's fields (DocFields)
    # and the passage's sentences as the reranker scored them (PassageSentence, in order)
    doc: DocFields | None = field(default=None, repr=False, compare=False)
    sentences: tuple[PassageSentence, ...] = field(default=(), repr=False, compare=False)
    also_reported_by: tuple[Reporter, ...] = ()  # the story's other documents, folded into this hit

    def to_json(self) -> dict:
        return {
            "rank": self.rank, "chunk_id": self.chunk_id, "doc_id": self.doc_id,
            "title": self.title, "source": self.source, "start": self.start,
            "end": self.end, "text": self.text, "score": round(self.score, 6),
            "outlet": getattr(self.doc, "outlet", None), "date": getattr(self.doc, "date", None),
            "also_reported_by": [r.to_json() for r in self.also_reported_by],
        }


@dataclass(frozen=True)
class Citation:
    """An exact extract: document_text[start:end] == quote."""

    n: int
    doc_id: str
    title: str
    source: str
    outlet: str | None
    date: str | None
    start: int
    end: int
    quote: str
    score: float
    page: int | None = None  # 1-based, for documents with pages (PDF)
    also_reported_by: tuple[Reporter, ...] = ()  # copies of the story whose text holds the same quote

    def to_json(self) -> dict:
        return {
            "n": self.n, "doc_id": self.doc_id, "title": self.title, "source": self.source,
            "outlet": self.outlet, "date": self.date, "start": self.start, "end": self.end,
            "quote": self.quote, "score": round(self.score, 6), "page": self.page,
            "also_reported_by": [r.to_json() for r in self.also_reported_by],
        }


@dataclass(frozen=True)
class ShortAnswer:
    """The words that answer, inside cited extract `n`: document_text[start:end] == text."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float
    n: int  # the citation whose extract holds it

    def to_json(self) -> dict:
        return {"text": self.text, "doc_id": self.doc_id, "start": self.start, "end": self.end,
                "score": round(self.score, 6), "n": self.n}


@dataclass(frozen=True)
class Part:
    """A sentence of an answer and the citations that support it."""

    text: str
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Segment:
    """One paragraph of an answer: a source's account (with its attribution when several
    sources speak) or, from an LLM, a paragraph of prose."""

    attribution: str | None
    parts: tuple[Part, ...]

    def to_json(self) -> dict:
        return {"attribution": self.attribution, "parts": [{"text": p.text, "cites": list(p.cites)}
                                                           for p in self.parts]}

    def prose(self) -> str:
        body = " ".join(f"{p.text} " + "".join(f"[{n}]" for n in p.cites) if p.cites else p.text
                        for p in self.parts)
        return f"{self.attribution}: {body}" if self.attribution else body


@dataclass(frozen=True)
class Answer:
    """An answer with its structure: segments of cited parts, the citations, the passages read.
    Made once by an answerer; later stages (short answer, pages, warnings) return new ones."""

    question: str
    abstained: bool
    citations: tuple[Citation, ...]
    segments: tuple[Segment, ...] = ()
    passages: tuple[Hit, ...] = ()
    condensed_question: str | None = None
    answerer: str = "extractive"
    warnings: tuple[str, ...] = ()
    abstention: str = ""  # what to say instead of an answer
    short_answer: ShortAnswer | None = None  # the few words that answer, inside a cited extract
    as_of: str | None = None  # the date the question was asked as of (YYYY-MM-DD)
    time: dict | None = None  # the window its time words resolved to: {"from", "to", "from_words"}
    # what it is: an answer to the question, or a digest of a time window's stories, one segment
    # per story ("What happened this week?": qa.retrieval.digest), shown whole, never folded
    kind: Literal["answer", "digest"] = "answer"
    # the sentences it was chosen from, best first, as scored (never serialised): what may corroborate
    # a short answer
    scored: tuple[PassageSentence, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:  # lists handed in become tuples: nothing in an answer changes
        for name in ("citations", "segments", "passages", "warnings", "scored"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def answer(self) -> str:
        """The prose with [n] markers (docs/design.md's "answer" field), rendered from the segments."""
        if self.abstained:
            return self.abstention
        return "\n\n".join(segment.prose() for segment in self.segments)

    def to_json(self) -> dict:
        """The ask result every face returns; qa.codec.answer_from_json reads it back."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "condensed_question": self.condensed_question,
            "answerer": self.answerer,
            "warnings": list(self.warnings),
            "passages": [h.to_json() for h in self.passages],
            "short_answer": self.short_answer.to_json() if self.short_answer else None,
            "as_of": self.as_of,
            "time": self.time,
            "segments": [s.to_json() for s in self.segments],
            "kind": self.kind,
        }


@dataclass
class Results:
    """What a search returns: the hits, one per story, and the time it was read in."""

    query: str
    hits: list[Hit]
    as_of: str | None = None
    time: dict | None = None

    def to_json(self) -> dict:
        return {"query": self.query, "results": [h.to_json() for h in self.hits], "as_of": self.as_of,
                "time": self.time}


@dataclass(frozen=True)
class Filters:
    """Which documents a search or an answer may use. A date bound excludes undated documents."""

    outlets: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    doc_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.outlets or self.date_from or self.date_to or self.doc_ids)

    def to_json(self) -> dict:
        return {"outlet": list(self.outlets), "date_from": self.date_from, "date_to": self.date_to,
                "doc_ids": list(self.doc_ids)}

    def describe(self) -> str:
        """In words, for a person: "outlets Iran Times; from 2021-02-01"."""
        parts = [f"outlets {', '.join(self.outlets)}" if self.outlets else "",
                 f"from {self.date_from}" if self.date_from else "", f"to {self.date_to}" if self.date_to else "",
                 f"{len(self.doc_ids)} chosen documents" if self.doc_ids else ""]
        return "; ".join(p for p in parts if p)

    @classmethod
    def of(cls, outlet=None, date_from=None, date_to=None, doc_ids=None) -> Filters:
        """The one way every face makes filters (CLI options, REST query and body, MCP arguments,
        the chat's boxes): a list may be given as one string or left out, a blank date is no
        bound; anything else of the wrong type is a one-line InputError. The dates themselves
        are checked by the request they go into (qa.requests)."""

        def strings(key: str, value) -> tuple[str, ...]:
            value = [value] if isinstance(value, str) else [] if value is None else value
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise InputError(f"filters.{key} must be a list of strings")
            return tuple(value)

        def day(key: str, value) -> str | None:
            if value is None:
                return None
            if not isinstance(value, str):
                raise InputError(f"filters.{key} must be a date as YYYY-MM-DD")
            return value.strip() or None

        return cls(strings("outlet", outlet), day("date_from", date_from), day("date_to", date_to),
                   strings("doc_ids", doc_ids))

    @classmethod
    def from_json(cls, raw) -> Filters:
        """From an ask body's "filters" object."""
        if not isinstance(raw, dict) or set(raw) - {"outlet", "date_from", "date_to", "doc_ids"}:
            raise InputError('filters must be an object with outlet, date_from, date_to and/or doc_ids')
        return cls.of(**raw)


@dataclass(frozen=True)
class Question:
    """A question as the pipeline reads it, worked out once (qa.text.questions.understand)."""

    asked: str  # as the user typed it
    condensed: str  # as understood: self-contained, what is retrieved for and answered
    vector: np.ndarray = field(repr=False, compare=False)  # the condensed question's embedding
    filters: Filters | None = None
    kind: str | None = None  # the kind of answer wanted: name, date, number, cause, definition, statement
    names: tuple[str, ...] = ()  # names in the condensed question (spaCy's entities): who and what it is about
    wants_name: bool = False  # "what is the name of ..."
    expects: frozenset = frozenset()  # entity labels an answer holds (qa.text.questions): empty = untyped
    prior: DatePrior | None = field(default=None, repr=False, compare=False)  # its time

    @property
    def known(self) -> set[str]:
        """The question's own names, lower-cased: an answer must bring something else."""
        return {n.lower() for n in self.names}


@dataclass(frozen=True)
class Turn:
    """One message of a chat history. An assistant turn may carry the answer it came from:
    follow-ups are then condensed from that data (what it understood, its short answer, its
    extracts), whatever a face displayed."""

    role: str  # "user" | "assistant"
    content: str
    result: Answer | None = None

    @property
    def text(self) -> str:
        """What the turn said, in plain text: the result's answer when there is one."""
        answer = self.result.answer if self.result is not None else ""
        return answer if answer.strip() else self.content

