"""A milestone the team enters in a topic's config (`[[topics.milestones]]`): company guidance."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, timedelta

from pydantic import model_validator

from watchers.settings import HttpUrl, StrictSettings

__all__ = ["Milestone", "window_days"]

_WINDOW = re.compile(r"(\d{4})-(H[12]|Q[1-4])")
_FIRST_MONTH = {"H1": 1, "H2": 7, "Q1": 1, "Q2": 4, "Q3": 7, "Q4": 10}
_MONTHS = {"H": 6, "Q": 3}


def window_days(window: str) -> tuple[date, date]:
    """ "2027-H1" -> (2027-01-01, 2027-06-30); "2027-Q2" -> (2027-04-01, 2027-06-30)."""
    found = _WINDOW.fullmatch(window.strip())
    if found is None:
        raise ValueError(f"{window!r} is not a window like 2027-H1 or 2027-Q2")
    year, part = int(found.group(1)), found.group(2)
    month = _FIRST_MONTH[part] + _MONTHS[part[0]]
    end = date(year + 1, 1, 1) if month > 12 else date(year, month, 1)
    return date(year, _FIRST_MONTH[part], 1), end - timedelta(days=1)


class Milestone(StrictSettings):
    """`name`, one of `date` or `window`, the `source` URL it was announced at, a `note`."""

    name: str
    date: dt.date | None = None
    window: str | None = None
    source: HttpUrl
    note: str | None = None

    @model_validator(mode="after")
    def _one_date(self) -> Milestone:
        if (self.date is None) == (self.window is None):
            raise ValueError("give either `date` (2027-03-15) or `window` (2027-H1, 2027-Q2)")
        if self.window is not None:
            window_days(self.window)
        if not self.name.strip():
            raise ValueError("`name` is empty")
        return self

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        """The first and last day it may fall on."""
        if self.window is not None:
            return window_days(self.window)
        assert self.date is not None  # the validator asks for one of the two
        return self.date, self.date
