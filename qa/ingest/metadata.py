"""Title, outlet and publication date read from the top of an article's text."""
from __future__ import annotations

import re
from datetime import date

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DATE_PATTERNS = [
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"),
    re.compile(rf"(?P<day>\d{{1,2}})\s+{_MONTH},?\s+(?P<year>\d{{4}})"),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"),
]
_FIELD = re.compile(r"^\s*(title|outlet|source|publication|publisher|date|published)\s*:\s*(.+?)\s*$", re.I)
_HEAD_LINES = 12


def parse_date(text: str) -> str | None:
    """The first date in text as YYYY-MM-DD, or None."""
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match and (iso := _to_iso(match)):
            return iso
    return None


def _to_iso(match: re.Match) -> str | None:
    month = match.group("month")
    month_number = int(month) if month.isdigit() else _month_number(month)
    try:
        return date(int(match.group("year")), month_number or 0, int(match.group("day"))).isoformat()
    except ValueError:
        return None


def _month_number(name: str) -> int | None:
    name = name.lower()
    return next((n for full, n in _MONTHS.items() if full.startswith(name) and len(name) >= 3), None)


def _is_date_line(line: str) -> bool:
    stripped = re.sub(r"^(published|updated|posted|date)\s*:?\s*", "", line.strip(), flags=re.I)
    return parse_date(stripped) is not None and len(stripped) <= 40


def _looks_like_outlet(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 3 and not re.search(r"[.?!:,\"“”]", line) and line[:1].isupper()


def extract_metadata(text: str, fallback_title: str) -> tuple[str, str | None, str | None]:
    """(title, outlet, date) from the article's head: explicit fields first, then layout."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:_HEAD_LINES]
    fields = _explicit_fields(lines)
    title = fields.get("title")
    outlet = fields.get("outlet")
    published = parse_date(fields["date"]) if "date" in fields else None
    published = published or next((parse_date(ln) for ln in lines[:6] if _is_date_line(ln)), None)
    candidates = [ln.lstrip("#").strip() for ln in lines if not _FIELD.match(ln) and not _is_date_line(ln)]
    # A breadcrumb ("Home News Iran Politics <headline>") ends with a later line: skip it.
    candidates = [c for i, c in enumerate(candidates)
                  if not any(len(later) < len(c) and c.endswith(later) for later in candidates[i + 1:])]
    if outlet is None and len(candidates) > 1 and _looks_like_outlet(candidates[0]) \
            and len(candidates[1].split()) > len(candidates[0].split()) and not candidates[1].endswith("."):
        outlet = candidates[0]
        candidates = candidates[1:]
    title = title or next((c for c in candidates if len(c.split()) >= 3), None)
    return (title or fallback_title)[:300], outlet, published


def _explicit_fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        match = _FIELD.match(line)
        if match:
            key = match.group(1).lower()
            key = {"source": "outlet", "publication": "outlet", "publisher": "outlet",
                   "published": "date"}.get(key, key)
            fields.setdefault(key, match.group(2))
    return fields
