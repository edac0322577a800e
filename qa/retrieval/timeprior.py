"""Time as a prior in ranking: a passage's score is weighed by its document's date against the
question's time (qa.text.timewords), never filtered by it.

- A window ("this week", "in March"): a passage dated inside it (or up to GRACE_DAYS after,
  when reports of it appear) keeps its score; one dated outside keeps `outside` of it.
- A question about the present with no window: the `recency` share of the score fades with the
  passage's age before as_of, halving every `half_life` days.
- Undated documents sit between: they keep the weight of a report `half_life` days old, or
  `outside` of it when there is a window."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from qa.text.timewords import TimeReading

GRACE_DAYS = 2  # a report of an event is dated the day of it or the days after


@dataclass(frozen=True)
class TimePrior:
    reading: TimeReading
    outside: float = 0.5
    recency: float = 0.3
    half_life: float = 14.0

    @classmethod
    def from_settings(cls, reading: TimeReading, settings) -> "TimePrior":
        return cls(reading, settings.time_window_weight, settings.recency_weight, settings.recency_half_life_days)

    @property
    def window(self):
        return self.reading.window

    @property
    def active(self) -> bool:
        return self.window is not None or (self.reading.present and self.recency > 0)

    def in_window(self, day: str | None) -> bool:
        window = self.window
        parsed = _day(day)
        return bool(window and parsed and window.start <= parsed <= window.end + timedelta(days=GRACE_DAYS))

    def weight(self, day: str | None) -> float:
        """The share of its score a passage of a document dated `day` (YYYY-MM-DD or None) keeps."""
        parsed = _day(day)
        if self.window is not None:
            return 1.0 if self.in_window(day) else self.outside
        if not (self.reading.present and self.recency > 0):
            return 1.0
        age = self.half_life if parsed is None else abs((self.reading.as_of - parsed).days)
        return 1.0 - self.recency * (1.0 - math.exp(-math.log(2) * age / self.half_life))

    def window_bounds(self) -> tuple[str, str] | None:
        """The dates a window-restricted search covers, as YYYY-MM-DD."""
        window = self.window
        if window is None:
            return None
        return window.start.isoformat(), (window.end + timedelta(days=GRACE_DAYS)).isoformat()


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
