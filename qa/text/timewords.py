"""Time in questions: the words that place a question in time ("this week", "in March", "since
Monday", "latest"), each resolved against an *as of* date to a window of dates.

spaCy's entity recogniser decides which words are a date (so "Theresa May" is not a month and
"24-year-old" is not a time); dateparser (already a dependency of the metadata reader) resolves
them, with its `period` telling a day from a week, a month or a year. It was measured against
ctparse on the news train split's questions: see bench/results/time.md. The present-tense words
("latest", "current", "now", "recently") are not dates to either library: a short list here reads
them as "the last 30 days".

The window is a prior in ranking, never a filter (qa.retrieval.timeprior)."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from qa.text.nlp import parse_question

RECENT_DAYS = 30  # "recently", "latest": the last month
_PRESENT = re.compile(r"\b(recent(?:ly)?|latest|current(?:ly)?|now|newest|most recent|so far|these days|"
                      r"at present|presently|nowadays|as of today|ongoing)\b", re.I)
# what spaCy labels DATE but is an age, a duration or an era, not a time the question is placed in
_NOT_A_TIME = re.compile(r"\w+-(?:year|month|week|day|hour|minute)s?\b|\b(?:old|long|annual|daily|weekly|monthly|"
                         r"yearly|each|every|decades?|centur(?:y|ies)|ages?|'?[0-9]{0,2}[0-9]0s|the \w+ties)\b", re.I)
# a time expression names a day, a month, a year or a span of them ("one or" two years does not)
_TIME_WORD = re.compile(r"\d|\b(?:today|tonight|yesterday|tomorrow|week|weekend|month|year|"
                        r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
                        r"july|august|september|october|november|december|"
                        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
_YEARS = re.compile(r"^(\d{4})\s*[-–/]\s*(\d{2}|\d{4})$")  # "2023-2024", "2023-24"
# "10 years", "just a week": how long, not when
_DURATION = re.compile(r"^(?:just |only |about |nearly |almost |over |more than )?(?:\d+|a|an|one|two|three|four|five|"
                       r"six|seven|eight|nine|ten|several|a few)\s+"
                       r"(?:second|minute|hour|day|week|month|year|decade)s?$", re.I)
_DETERMINER = re.compile(r"\b(this|last|next|past)\s+$", re.I)  # spaCy may leave it out: "this [year]'s"
# inside a longer phrase dateparser cannot read ("the early hours of Wednesday morning"): the day it names
_DAY_INSIDE = re.compile(r"\b(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+"
                         r"\d{1,2}(?:st|nd|rd|th)?"
                         r"(?:,?\s+\d{4})?|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b", re.I)
_SINCE = re.compile(r"\b(?:since|from|after)\s+$", re.I)
_SPAN = re.compile(r"^(?:the\s+)?(?:past|last|previous)\s+(\w+)?\s*(day|week|month|year)s?$", re.I)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "few": 3, "several": 5, "couple": 2}
_MODIFIER = re.compile(r"^(?:earlier|early|later|late|mid|the end of|the start of|the beginning of)\s+", re.I)
_WEEKDAY = re.compile(r"^(?:on\s+)?(last\s+|past\s+|previous\s+)?(mon|tues|wednes|thurs|fri|satur|sun)day$")
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class TimeWindow:
    """The dates a question's time words point to, both inclusive."""

    start: date
    end: date
    words: str  # the question's own words: "this week"

    def to_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "from_words": self.words}

    def describe(self) -> str:
        if self.start == self.end:
            return f"Read as: {self.start.isoformat()} (“{self.words}”)"
        return f"Read as: {self.start.isoformat()} to {self.end.isoformat()} (“{self.words}”)"

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class TimeReading:
    """When a question is about, as of a date: a window from its time words (or none), and
    whether it is about the present (recent reports first)."""

    as_of: date
    window: TimeWindow | None = None
    present: bool = True  # no time words placing it in the past: the most recent reports first

    def to_json(self) -> dict | None:
        return self.window.to_json() if self.window else None


def absolute(words: str) -> bool:
    """Time words that name their year ("in March 2022", "2021", "2023-24"): they place a question
    in time whatever "now" is; "this week", "yesterday", "in March" and "recently" need a now."""
    return bool(re.search(r"\b\d{4}\b", words))


def iso_day(value: str | None) -> date | None:
    """A stored YYYY-MM-DD date, or None when there is none or it is not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def shifted(day: date, days: float) -> date:
    """`day` moved by `days`, held at the calendar's ends (date.min, date.max) instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def read_time(question: str, as_of: date) -> TimeReading:
    """The question's time words resolved against `as_of`: the first that resolves wins."""
    return _read_time(question, as_of)


@lru_cache(maxsize=4096)
def _read_time(question: str, as_of: date) -> TimeReading:
    for entity in parse_question(question).entities:
        if not is_time(entity):
            continue
        before = question[:entity.start]
        since = bool(_SINCE.search(before))
        determiner = _DETERMINER.search(before)
        words = f"{determiner.group(1)} {entity.text}" if determiner else entity.text
        window = resolve(words, as_of, since)
        if window is not None:
            # a window that ends before the last month is the past: no pull towards recent reports
            return TimeReading(as_of, window, present=window.end >= shifted(as_of, -RECENT_DAYS))
    match = _PRESENT.search(question)
    if match:
        return TimeReading(as_of, TimeWindow(shifted(as_of, -RECENT_DAYS), as_of, match.group(0)))
    return TimeReading(as_of, present=about_the_present(question))


_FINITE = ("VBD", "VBZ", "VBP", "MD")


def about_the_present(question: str) -> bool:
    """Whether a question without time words asks how things stand now (recent reports first):
    its first finite verb is in the present ("Who is the mayor?", "How many have died?", "What
    will the council do?"), not the past ("Why didn't Putin meet Qalibaf?", "Who won the
    election?"): a question about a past event is not about the present because the folder also
    holds this month's news. A question without a finite verb ("Latest on the strike?") is."""
    for token in parse_question(question).tokens:
        if token.tag in _FINITE:
            return token.tag != "VBD"
    return True


def is_time(entity) -> bool:
    """A spaCy DATE/TIME entity that places a question in time: not an age, a duration or an era."""
    text = entity.text
    return (entity.label in ("DATE", "TIME") and bool(_TIME_WORD.search(text)) and not _NOT_A_TIME.search(text)
            and not _DURATION.match(text))


def resolve(words: str, as_of: date, since: bool = False) -> TimeWindow | None:
    """One time expression as a window of dates, or None when it names no time."""
    text = _MODIFIER.sub("", words.strip())
    window = _span(text, as_of) or _years(text) or _parsed(text, as_of)
    inside = None if window else _DAY_INSIDE.search(text)
    if inside:
        window = _parsed(inside.group(0), as_of)
    if window is None:
        return None
    start, end = window
    if since and start == as_of and _WEEKDAY.match(text.lower()):
        start = shifted(as_of, -7)  # "since Monday" asked on a Monday: since the Monday before
    if since:
        end = as_of
    end = min(end, as_of) if start <= as_of else end  # the part of "this month" already past
    return TimeWindow(start, end, words.strip())


def _span(text: str, as_of: date) -> tuple[date, date] | None:
    """"the past two weeks", "the last 10 days": a span ending at as_of."""
    match = _SPAN.match(text)
    if not match:
        return None
    count = match.group(1)
    if not count and not text.lower().startswith(("the", "past")):
        return None  # "last week" is the week before this one; "the past week" the last 7 days
    n = int(count) if count and count.isdigit() else _NUMBERS.get((count or "a").lower())
    if n is None:
        return None
    return shifted(as_of, -(n * _DAYS[match.group(2).lower()] - 1)), as_of


def _years(text: str) -> tuple[date, date] | None:
    match = _YEARS.match(text)
    if not match:
        return None
    first, last = match.group(1), match.group(2)
    last = first[:2] + last if len(last) == 2 else last
    if not (first <= last and 1 <= int(first)):
        return None  # "0000-2020" names no year the calendar has
    return date(int(first), 1, 1), date(int(last), 12, 31)


def _parsed(text: str, as_of: date) -> tuple[date, date] | None:
    low = text.lower()
    if re.search(r"\bweekend\b", low):  # the last Saturday-Sunday (the one before, for "last weekend")
        saturday = shifted(as_of, -((as_of.weekday() - 5) % 7))
        if low.startswith(("last", "past", "previous")) and as_of.weekday() in (5, 6):
            saturday = shifted(saturday, -7)
        return saturday, shifted(saturday, 1)
    weekday = _WEEKDAY.match(low)
    if weekday:  # "on Monday" asked on a Monday is today; on another day, the last one ("last Monday": the one before)
        back = (as_of.weekday() - _WEEKDAYS.index(weekday.group(2)[:3])) % 7
        if weekday.group(1) and back == 0:
            back = 7
        return shifted(as_of, -back), shifted(as_of, -back)
    parsed = _parser(as_of).get_date_data(text)
    if parsed.date_obj is None:
        return None
    day, period = parsed.date_obj.date(), parsed.period
    if period == "week":
        return shifted(day, -6), day
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


@lru_cache(maxsize=64)
def _parser(as_of: date):
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": datetime(as_of.year, as_of.month, as_of.day, 12),
        "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True})
