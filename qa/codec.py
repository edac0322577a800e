"""The one codec between requests, answers and turns and their JSON: a search or a question as a
REST body or a batch line sends it (`search_request_from_json`, `ask_request_from_json`), and what
`Answer.to_json` writes, which `answer_from_json` reads back with everything the next turn needs
(what the question was understood as, the segments with their citations, the short answer, the
time). Every face decodes a chat history here: REST, MCP, the chat, batch files.

A client may send less than a whole result (older clients sent only "answer" and "citations");
what is missing takes its default, what is there must have its type, else one InputError line.
Passages are not read back: no later turn needs them.
"""
from __future__ import annotations

import re
from typing import Any

from qa.errors import InputError
from qa.requests import AskRequest, SearchRequest, as_of_day
from qa.types import Answer, Citation, Filters, Part, Reporter, Segment, ShortAnswer, Turn

HISTORY_SHAPE = 'history must be a list of {"role": "user"|"assistant", "content": str, "result": {...} (optional)}'


def search_request_from_json(raw: Any, default: SearchRequest | None = None) -> SearchRequest:
    """A search as JSON: {"query" (or "q"), "k", "filters", "as_of"}, as POST /api/search and
    `qa search --batch` lines send it; what it leaves out is `default`'s (the command line's)."""
    query = raw.get("query", raw.get("q")) if isinstance(raw, dict) else None
    if not isinstance(query, str):
        raise InputError('a search must be an object with a string "query"')
    k, filters, as_of = _options(raw, default)
    return SearchRequest(query, k, filters, as_of)


def ask_request_from_json(raw: Any, default: AskRequest | None = None) -> AskRequest:
    """A question as JSON: {"question", "history", "k", "filters", "as_of"}, as POST /api/ask
    and `qa ask --batch` lines send it; what it leaves out is `default`'s (the command line's)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
        raise InputError('a question must be an object with a string "question"')
    k, filters, as_of = _options(raw, default)
    return AskRequest(raw["question"], tuple(turns_from_json(raw.get("history"))), k, filters, as_of)


def _options(raw: dict, default: SearchRequest | AskRequest | None):
    """k, filters and as_of of a request's JSON, each the default's when absent (or null)."""
    as_of = raw.get("as_of")
    if as_of is not None and not isinstance(as_of, str):
        raise InputError("as_of must be a date as YYYY-MM-DD")
    return (raw.get("k") if raw.get("k") is not None else getattr(default, "k", None),
            Filters.from_json(raw["filters"]) if raw.get("filters") is not None else getattr(default, "filters", None),
            as_of_day(as_of) if as_of is not None else getattr(default, "as_of", None))


def turns_from_json(raw: Any) -> list[Turn]:
    """A history as every face receives it (REST, MCP, batch files, the chat's own state)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError(HISTORY_SHAPE)
    return [turn_from_json(t) for t in raw]


def turn_from_json(raw: Any) -> Turn:
    if not (isinstance(raw, dict) and raw.get("role") in ("user", "assistant")
            and isinstance(raw.get("content", ""), str) and isinstance(raw.get("result") or {}, dict)):
        raise InputError(HISTORY_SHAPE)
    result = raw.get("result")
    return Turn(raw["role"], raw.get("content", ""), answer_from_json(result) if result else None)


def answer_from_json(raw: Any) -> Answer:
    if not isinstance(raw, dict):
        raise InputError("a result must be an object, as an ask returns it")
    read = _Reader(raw, "result")
    abstained = read.value("abstained", bool, False)
    prose = read.value("answer", str, "")
    segments = [_segment(_Reader(s, "result.segments")) for s in read.items("segments")]
    if "segments" not in raw and prose.strip() and not abstained:
        segments = [Segment(None, (Part(prose, ()),))]  # a result without its structure: its prose
    short = raw.get("short_answer")
    return Answer(
        question=read.value("question", str, ""), abstained=abstained,
        citations=tuple(_citation(_Reader(c, "result.citations")) for c in read.items("citations")),
        segments=tuple(segments), condensed_question=read.value("condensed_question", str, None),
        answerer=read.value("answerer", str, "extractive"),
        warnings=tuple(read.value("warnings", list, [])),
        abstention=prose if abstained else "",
        short_answer=_short_answer(_Reader(short, "result.short_answer")) if short is not None else None,
        as_of=read.value("as_of", str, None), time=read.value("time", dict, None),
        kind="digest" if read.value("kind", str, "answer") == "digest" else "answer")


# "According to Reuters (2021-02-26): ..." / "On 26 February 2021, Reuters reported: ..." (qa.answering.extractive)
_ATTRIBUTION = re.compile(r"^(?:According to [^:\n]*|On [^:\n]*? reported): ")
_CITED_PART = re.compile(r"\s*(.+?)\s*((?:\[\d{1,2}\])+)")


def answer_from_prose(prose: str) -> Answer | None:
    """An earlier answer known only by its text (an OpenAI client's history, a batch file without
    results): its cited parts read back as citations, what each [n] marks; None without markers."""
    segments: list[Segment] = []
    citations: dict[int, Citation] = {}
    for paragraph in prose.split("\n\n"):
        found = _ATTRIBUTION.match(paragraph)
        body = paragraph[found.end():] if found else paragraph
        parts = []
        for part in _CITED_PART.finditer(body):
            cites = tuple(int(n) for n in re.findall(r"\d+", part.group(2)))
            parts.append(Part(part.group(1), cites))
            for n in cites:
                citations.setdefault(n, Citation(n, "", "", "", None, None, 0, 0, part.group(1), 0.0))
        if parts:
            segments.append(Segment(found.group(0)[:-2] if found else None, tuple(parts)))
    if not citations:
        return None
    return Answer("", False, tuple(citations[n] for n in sorted(citations)), tuple(segments))


def _citation(read: _Reader) -> Citation:
    return Citation(read.value("n", int, 0), read.value("doc_id", str, ""), read.value("title", str, ""),
                    read.value("source", str, ""), read.value("outlet", str, None), read.value("date", str, None),
                    read.value("start", int, 0), read.value("end", int, 0), read.value("quote", str, ""),
                    read.value("score", float, 0.0), read.value("page", int, None),
                    tuple(_reporter(_Reader(r, "result.citations.also_reported_by"))
                          for r in read.items("also_reported_by")))


def _reporter(read: _Reader) -> Reporter:
    return Reporter(read.value("doc_id", str, ""), read.value("outlet", str, None), read.value("date", str, None))


def _segment(read: _Reader) -> Segment:
    parts = []
    for raw in read.items("parts"):
        part = _Reader(raw, "result.segments.parts")
        cites = part.value("cites", list, [])
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in cites):
            raise InputError("result.segments.parts.cites must be a list of citation numbers")
        parts.append(Part(part.value("text", str, ""), tuple(cites)))
    return Segment(read.value("attribution", str, None), tuple(parts))


def _short_answer(read: _Reader) -> ShortAnswer:
    return ShortAnswer(read.value("text", str, ""), read.value("doc_id", str, ""), read.value("start", int, 0),
                       read.value("end", int, 0), read.value("score", float, 0.0), read.value("n", int, 0))


class _Reader:
    """Typed reads of one JSON object, each failure one line naming the field."""

    def __init__(self, raw: Any, where: str):
        if not isinstance(raw, dict):
            raise InputError(f"{where} must be an object")
        self.raw, self.where = raw, where

    def value(self, key: str, kind: type, default: Any) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(f"{self.where}.{key} must be {_KIND_WORDS.get(kind, kind.__name__)}")
        return value

    def items(self, key: str) -> list:
        return self.value(key, list, [])


_KIND_WORDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list", dict: "an object"}
