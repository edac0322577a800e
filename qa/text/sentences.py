"""Sentence spans with character offsets.

A small rule-based splitter rather than a library: it must return exact offsets,
run at ingest speed over millions of passages and need no downloaded data
(nltk's punkt models are a download; pysbd is ~100x slower).
"""
from __future__ import annotations

import re

from qa.types import Span

# A line break ends a sentence: news text puts headlines, bylines and paragraphs on lines.
_LINE = re.compile(r"[^\n]+")
# End punctuation, optional closing quotes/brackets, whitespace, then a sentence-like start.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "gov", "sen", "rep", "col",
    "lt", "capt", "sgt", "maj", "adm", "rev", "hon", "pres", "vs", "etc", "inc",
    "corp", "co", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "fig", "approx",
}
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


def _is_abbreviation(text: str, dot_end: int, next_start: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, dot_end - 12), dot_end)
    if not match:
        return False
    word = match.group(1).lower()
    if word == "no":  # "No. 10" abbreviates number; "he said “No.”" ends a sentence
        return text[next_start:next_start + 3].strip()[:1].isdigit()
    # "J." (an initial) or a known abbreviation; "U.S." style dotted acronyms too.
    return len(word) == 1 or word in _ABBREVIATIONS or bool(re.fullmatch(r"(\w\.)+\w", word))


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of text[start:end], whitespace trimmed, in order, never overlapping."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, end):
        cursor = line.start()
        for boundary in _BOUNDARY.finditer(text, line.start(), line.end()):
            punct_end = boundary.start() + len(boundary.group(0).rstrip("\"'”’)]"))
            if text[boundary.start()] == "." and _is_abbreviation(text, punct_end, boundary.end()):
                continue
            span = _trimmed(text, cursor, boundary.end())
            if span:
                spans.append(span)
            cursor = boundary.end()
        span = _trimmed(text, cursor, line.end())
        if span:
            spans.append(span)
    return spans
