"""ctparse's windows for the expressions `python -m bench.timewords extract` sampled: run with a
Python that has ctparse (it cannot join the product's lock), e.g.
    python3 -m venv /tmp/ctp && /tmp/ctp/bin/pip install ctparse==0.3.6
    /tmp/ctp/bin/python bench/timewords_ctparse.py /tmp/timewords.json
A Time resolved to a day is that day; to a month or a year, the whole of it; an Interval, its ends."""
import calendar
import json
import sys
from datetime import date, datetime

from ctparse import ctparse
from ctparse.types import Interval, Time


def window(words: str, as_of: str) -> dict | None:
    base = datetime.fromisoformat(as_of).replace(hour=12)
    try:
        parsed = ctparse(words, ts=base, timeout=2)
    except Exception:  # ctparse raises on some inputs; counted as no window
        return None
    value = parsed.resolution if parsed else None
    if isinstance(value, Interval) and value.t_from and value.t_to and value.t_from.year and value.t_to.year:
        start, end = _bounds(value.t_from)[0], _bounds(value.t_to)[1]
    elif isinstance(value, Time) and value.year:
        start, end = _bounds(value)
    else:
        return None
    return {"from": start.isoformat(), "to": min(end, date.fromisoformat(as_of)).isoformat()
            if start <= date.fromisoformat(as_of) else end.isoformat(), "from_words": words}


def _bounds(t: Time) -> tuple[date, date]:
    if t.month and t.day:
        day = date(t.year, t.month, t.day)
        return day, day
    if t.month:
        return date(t.year, t.month, 1), date(t.year, t.month, calendar.monthrange(t.year, t.month)[1])
    return date(t.year, 1, 1), date(t.year, 12, 31)


if __name__ == "__main__":
    path = sys.argv[1]
    data = json.load(open(path))
    for row in data["rows"]:
        row["ctparse"] = window(row["words"], row["as_of"])
    json.dump(data, open(path, "w"), indent=1)
    print(sum(r["ctparse"] is not None for r in data["rows"]), "of", len(data["rows"]), "resolved by ctparse")
