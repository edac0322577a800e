"""Typed value objects passed between the pipeline stages."""
from __future__ import annotations

from dataclasses import dataclass, field


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

    def to_json(self) -> dict:
        return {
            "rank": self.rank, "chunk_id": self.chunk_id, "doc_id": self.doc_id,
            "title": self.title, "source": self.source, "start": self.start,
            "end": self.end, "text": self.text, "score": round(self.score, 6),
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

    def to_json(self) -> dict:
        return {
            "n": self.n, "doc_id": self.doc_id, "title": self.title, "source": self.source,
            "outlet": self.outlet, "date": self.date, "start": self.start, "end": self.end,
            "quote": self.quote, "score": round(self.score, 6),
        }


@dataclass
class Answer:
    """The answer prose with [n] markers, its citations, and the passages it came from."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    passages: list[Hit] = field(default_factory=list)
    condensed_question: str | None = None

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "condensed_question": self.condensed_question,
            "passages": [h.to_json() for h in self.passages],
        }


@dataclass(frozen=True)
class Turn:
    """One message of a chat history."""

    role: str  # "user" | "assistant"
    content: str
