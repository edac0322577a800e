"""What every face asks the engine: one typed request per search or question.

The CLI, REST, MCP, `/v1`, the chat and the library each build one of these (JSON bodies and
batch lines through qa.codec); the engine resolves what is left unset from the settings, once.
A request is checked when it is made: a bad k, date or filter is the same one-line InputError
whichever face it came through. The question's own length limit is a setting: the engine checks it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date

from qa import messages
from qa.errors import InputError
from qa.types import Filters, Turn, plain_name

MAX_K = 50  # passages or results one request may ask for

# The dates a user may give (as_of, date filters): the time code reaches at most years from them
# (a window's grace days, recency's span, "the past ten years") and must stay inside the calendar.
FIRST_DAY, LAST_DAY = date(100, 1, 1), date(9899, 12, 31)


def parse_day(value, name: str) -> date:
    """A date a user gives, named `name` in the one-line InputError when it is not YYYY-MM-DD or
    is outside FIRST_DAY..LAST_DAY."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(messages.bad_date(name, FIRST_DAY.isoformat(), LAST_DAY.isoformat(), value))
    return day


def as_of_day(value: str | date | None) -> date | None:
    """A user's `as_of` (YYYY-MM-DD); None when not given."""
    if value is None or isinstance(value, date):
        return value
    return parse_day(value, "as_of")


def _k(k) -> int | None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K):
        raise InputError(f"k must be a whole number from 1 to {MAX_K}, not {messages.echo(k)}")
    return k


def _filters(filters: Filters | None) -> Filters | None:
    """Filters with checked dates and no empty entries; None when nothing filters."""
    if not filters:
        return None
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value is not None:
            parse_day(value, name)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InputError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    return replace(filters, outlets=tuple(plain_name(o, "outlet").strip() for o in filters.outlets if o.strip()),
                   doc_ids=tuple(plain_name(d, "document id") for d in filters.doc_ids if d))


# Each field's meaning, in one place: the REST and MCP schemas describe their fields with it.
_FILTERS = "Which documents may be used (outlet, date_from, date_to, doc_ids). A date bound excludes undated ones."
_AS_OF = ("Ask as of this date (YYYY-MM-DD): time words (\"this week\") and recency are read against it. "
          "Default: today, or the newest document's date.")


@dataclass(frozen=True)
class SearchRequest:
    """A search: the passages that best match `query`, one per story."""

    query: str = field(metadata={"doc": "What to look for (at most QA_MAX_QUESTION_CHARS characters)."})
    k: int | None = field(default=None, metadata={"doc": "Results (default QA_SEARCH_K)."})
    filters: Filters | None = field(default=None, metadata={"doc": _FILTERS})
    # None: not given; the engine then takes today, or the newest document's date (and knows it guessed)
    as_of: date | None = field(default=None, metadata={"doc": _AS_OF})

    def __post_init__(self) -> None:
        _checked(self)


@dataclass(frozen=True)
class AskRequest:
    """A question, with the conversation it follows."""

    question: str = field(metadata={"doc": "At most QA_MAX_QUESTION_CHARS characters (2,000 by default)."})
    history: tuple[Turn, ...] = field(default=(), metadata={
        "doc": "Earlier turns, for follow-ups; an assistant turn may carry the ask result it came from."})
    k: int | None = field(default=None, metadata={"doc": "Passages read to compose the answer (default QA_ANSWER_K)."})
    filters: Filters | None = field(default=None, metadata={"doc": _FILTERS})
    as_of: date | None = field(default=None, metadata={"doc": _AS_OF})

    def __post_init__(self) -> None:
        if not isinstance(self.history, tuple):
            object.__setattr__(self, "history", tuple(self.history))
        _checked(self)


def _checked(request: SearchRequest | AskRequest) -> None:
    """Checked once, where it is made: k in range, dates that are dates, filters without blanks."""
    _k(request.k)
    object.__setattr__(request, "as_of", as_of_day(request.as_of))
    object.__setattr__(request, "filters", _filters(request.filters))


def doc(cls: type, name: str) -> str:
    """A request field's description (for the REST and MCP schemas)."""
    return next(f.metadata.get("doc", "") for f in fields(cls) if f.name == name)


def valid_text(limit: int, text, what: str) -> str:
    """A question, query or quote as given: not empty, at most `limit` characters, valid Unicode."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the {what} is empty")
    if len(text) > limit:
        raise InputError(f"the {what} is {len(text):,} characters long; the limit is {limit:,}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the {what} is not valid Unicode (it holds a lone surrogate)") from None
    return text.strip()
