"""Checking citations against source text: pure functions, no index needed."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

APPROXIMATE_MIN = 80.0  # similarity (0-100) from which an approximate match is reported


@dataclass(frozen=True)
class Location:
    doc_id: str
    start: int
    end: int
    similarity: float  # 100.0 for an exact match
    exact: bool

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end,
                "similarity": round(self.similarity, 1), "exact": self.exact}


@dataclass(frozen=True)
class Verdict:
    n: int
    valid: bool
    reason: str
    location: Location | None = None

    def to_json(self) -> dict:
        data = {"n": self.n, "valid": self.valid, "reason": self.reason}
        if self.location:
            data["found_at"] = self.location.to_json()
        return data


def check_span(text: str | None, start, end, quote) -> tuple[bool, str]:
    """Does text[start:end] equal quote? The reason says what is wrong when not."""
    if text is None:
        return False, "unknown document"
    if not isinstance(quote, str) or not quote:
        return False, "no quote"
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        return False, "missing offsets"
    if not 0 <= start <= end <= len(text):
        return False, f"offsets {start}-{end} outside the document (length {len(text)})"
    if text[start:end] != quote:
        return False, f"text at {start}-{end} differs from the quote"
    return True, "quote matches the source at the given offsets"


def locate_exact(quote: str, docs: Iterable[tuple[str, str]]) -> Location | None:
    for doc_id, text in docs:
        at = text.find(quote)
        if at >= 0:
            return Location(doc_id, at, at + len(quote), 100.0, True)
    return None


def locate_approximate(quote: str, docs: Iterable[tuple[str, str]]) -> Location | None:
    """The best fuzzy alignment of quote in any document (whitespace and small edits tolerated)."""
    from rapidfuzz import fuzz

    best: Location | None = None
    needle = _squash(quote)
    for doc_id, text in docs:
        if len(text) < len(needle) * 0.5:
            continue
        found = fuzz.partial_ratio_alignment(needle, text, score_cutoff=APPROXIMATE_MIN)
        if found and (best is None or found.score > best.similarity):
            start, end = _refined(needle, text, found.dest_start, found.dest_end)
            best = Location(doc_id, start, end, found.score, False)
    return best


def _refined(needle: str, text: str, start: int, end: int) -> tuple[int, int]:
    """The alignment's edges moved by a few characters where that matches the quote better: the
    alignment window has the quote's length, so a quote one character shorter than the source
    (a dropped hyphen) was placed one character late, cutting the first letter off."""
    from rapidfuzz import fuzz

    slack = max(3, min(12, len(needle) // 20))
    candidates = ((s, e) for s in range(max(0, start - slack), min(len(text), start + slack) + 1)
                  for e in range(max(0, end - slack), min(len(text), end + slack) + 1) if e > s)
    # the best match; among equals the one nearest the alignment (the earliest on a tie)
    return max(candidates,
               key=lambda se: (fuzz.ratio(needle, text[se[0]:se[1]]), -abs(se[0] - start) - abs(se[1] - end)))


def locate(quote: str, docs: list[tuple[str, str]]) -> Location | None:
    return locate_exact(quote, docs) or locate_approximate(quote, docs)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
