"""Time as a prior in ranking: a passage's score is weighed by its document's date against the
question's time (qa.text.timewords), never filtered by it.

- A window ("this week", "in March"): a passage dated inside it (or up to GRACE_DAYS after,
  when reports of it appear) keeps its score; one dated outside keeps `outside` of it.
- A question about the present with no window: the `recency` share of the score fades with the
  passage's age before as_of, halving every `half_life` days.
- Undated documents never gain over dated ones: under recency they keep what a document of the
  corpus's median date keeps (`undated`; the least any dated one keeps when it is not known),
  under a window `outside` of it (nothing says they are of it). They used to keep their whole
  score under recency, so an undated copy of a 2021 report outranked the dated one as soon as the
  folder held one document of the last month (issue 44)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from qa.text.timewords import TimeReading, iso_day, shifted

# how an undated document is weighed under recency: as the oldest dated one ("oldest") or as of
# the corpus's median date ("median"). Seed dialogues over the seeds and four articles of the
# last month: 16 of 95 first citations differ from the seeds alone with "median", 8 with
# "oldest", the same 8 as with recency off (docs/measurements.md, issue 44)
UNDATED_AS = "oldest"
GRACE_DAYS = 2  # a report of an event is dated the day of it or the days after


@dataclass(frozen=True)
class TimePrior:
    reading: TimeReading
    outside: float  # Settings.time_window_weight
    recency: float  # Settings.recency_weight
    half_life: float  # Settings.recency_half_life_days
    undated: date | None = None  # the date an undated document is weighed as (the corpus's median)
    placed: bool = True  # False: relative time words in a corpus whose "now" is a guess weigh nothing

    @classmethod
    def from_settings(cls, reading: TimeReading, retrieval, recency: bool = True,
                      undated: date | None = None) -> TimePrior:
        """From Settings.retrieval (qa.settings.RetrievalSettings); without recency when `recency`
        is false (nothing says when "now" is)."""
        return cls(reading, retrieval.time_window_weight, retrieval.recency_weight if recency else 0.0,
                   retrieval.recency_half_life_days, undated)

    @property
    def window(self):
        """The window that weighs passages: one that starts after as_of ("next year") does not,
        reports of plans are dated before it."""
        window = self.reading.window
        return window if window is not None and window.start <= self.reading.as_of else None

    @property
    def active(self) -> bool:
        """Whether dates change anything (time_window_weight 1 and recency_weight 0: they do not)."""
        if self.window is not None:
            return self.outside < 1.0
        return self.reading.present and self.recency > 0

    def in_window(self, day: str | None) -> bool:
        window = self.window
        parsed = iso_day(day)
        return bool(window and parsed and window.start <= parsed <= shifted(window.end, GRACE_DAYS))

    def weight(self, day: str | None) -> float:
        """The share of its score a passage of a document dated `day` (YYYY-MM-DD or None) keeps."""
        parsed = iso_day(day)
        if self.window is not None:
            return 1.0 if self.in_window(day) else self.outside
        if not (self.reading.present and self.recency > 0):
            return 1.0
        if parsed is None:
            if self.undated is None:  # a hair under the oldest: a dated copy of the same text leads
                return (1.0 - self.recency) * 0.99
            parsed = self.undated
        age = abs((self.reading.as_of - parsed).days)
        return 1.0 - self.recency * (1.0 - math.exp(-math.log(2) * age / self.half_life))

    def window_bounds(self) -> tuple[str, str] | None:
        """The dates a second, restricted search covers (YYYY-MM-DD), so that passages of the
        question's time are among the candidates however many older ones match better: the
        window, or for a question about the present the last two half-lives."""
        window = self.window
        if window is not None:
            return window.start.isoformat(), shifted(window.end, GRACE_DAYS).isoformat()
        if self.reading.present and self.recency > 0:
            as_of = self.reading.as_of
            return (shifted(as_of, -round(2 * self.half_life)).isoformat(),
                    shifted(as_of, GRACE_DAYS).isoformat())
        return None


def median_date(dates: list[str | None]) -> date | None:
    """The median of the documents' dates (None when none is dated): what an undated one is weighed as."""
    days = sorted(d for d in (iso_day(x) for x in dates) if d is not None)
    return days[(len(days) - 1) // 2] if days else None
