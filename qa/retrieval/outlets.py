"""An outlet the question names ("…, according to Iran Times?", "What did Iran Times report
about …?") is a filter: the answer comes from that outlet's documents only, however many other
outlets' stories of the same event the corpus holds. Only outlets the corpus's documents carry
(their `outlet` field) are recognised, and only with words that attribute a report to them, so a
name that is also a topic ("Iran", "The Week" in "this week") filters nothing.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from weakref import WeakKeyDictionary

from qa.store.base import StoreReader
from qa.types import Filters

_REPORTED = r"(?:reported|reports|report|said|says|say|wrote|writes|write|published|publishes|publish|claimed|claims|" \
            r"claim|announced|announces)"
_THE = r"(?:the\s+)?"
_PIECE = r"(?:report|article|story|coverage|piece)s?\b[,:]?"


@dataclass(frozen=True)
class NamedOutlet:
    outlet: str  # as the documents spell it
    question: str  # the question without the words that named it, for search and relevance


def named_outlet(question: str, outlets: list[str]) -> NamedOutlet | None:
    """The outlet a question attributes what it asks about to, when the corpus has documents from it."""
    names = sorted({o.strip() for o in outlets if o and len(o.strip()) > 1}, key=len, reverse=True)
    if not names:
        return None
    by_lower = {n.lower(): n for n in names}
    alternatives = "|".join(re.escape(n) for n in names)
    name = rf"{_THE}(?P<o>{alternatives})(?![\w-])"
    patterns = (
        # ", according to X" / "as reported by X" / "per X": the phrase goes
        rf"[\s,;:(-]*\b(?:according\s+to|as\s+reported\s+by|reported\s+by|as\s+told\s+by|per)\s+{name}",
        # "in X's report, ...", "In the X article, ...": the phrase goes
        rf"\b(?:in|by|from)\s+{name}(?:'s|’s)?\s+{_PIECE}",
        rf"\b{name}(?:'s|’s)\s+{_PIECE}",
        rf"\b{name}\s+{_PIECE}(?=\s+{_REPORTED}\b)",  # "What does the X story say about ...": it says
        # "What did X report about ...", "X reported that ...": the name goes, the verb stays
        rf"\b{name}(?=\s+{_REPORTED}\b)",
    )
    for pattern in patterns:
        found = re.search(pattern, question, re.I)
        if found:
            rest = (question[:found.start()] + " " + question[found.end():]).strip()
            rest = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", rest))
            return NamedOutlet(by_lower[found.group("o").lower()], rest or question)
    return None


def with_named_outlet(question: str, filters: Filters | None, store: StoreReader) -> tuple[str, Filters | None]:
    """The question to search and answer, and the filters: the outlet it names added, unless the
    user's own filters already name outlets (theirs stand)."""
    if filters is not None and filters.outlets:
        return question, filters
    named = named_outlet(question, known_outlets(store))
    if named is None:
        return question, filters
    return named.question, replace(filters or Filters(), outlets=(named.outlet,))


_known: WeakKeyDictionary = WeakKeyDictionary()
_lock = threading.Lock()


def known_outlets(store: StoreReader) -> list[str]:
    """The outlets of a store version's documents, read once per version."""
    with _lock:
        if store not in _known:
            _known[store] = sorted({d.outlet for d in store.documents() if d.outlet})
        return _known[store]
