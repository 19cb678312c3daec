"""Pure: a destination's quiet hours, a daily window of local wall-clock time in an IANA zone.

A window is evaluated in local time at each instant (`at.astimezone(zone)`): its start is
inclusive and its end exclusive, and it may span midnight ("20:00-07:00"). On daylight-saving
days this follows the clock on the wall: on the spring-forward day a window ending at 07:00
ends an hour sooner in UTC, a boundary inside the skipped hour takes effect when the clock
jumps past it, and a time of day inside the window that occurs twice (the repeated hour in
autumn) is quiet both times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["QuietHours", "check_window", "check_zone", "quiet_note"]

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_EXAMPLE = 'expected a window of local time like "20:00-07:00" (HH:MM-HH:MM, 24-hour clock)'


def _time_of_day(hours: str, minutes: str, which: str) -> time:
    hour, minute = int(hours), int(minutes)
    if not 0 <= hour <= 23 or not 0 <= minute <= 59:
        raise ValueError(
            f"the {which} {hours}:{minutes} is not a time of day: hours are 00-23 and "
            "minutes 00-59 (midnight is 00:00)"
        )
    return time(hour, minute)


def check_window(window: str) -> tuple[time, time]:
    """(start, end) of a "HH:MM-HH:MM" window; ValueError saying what is wrong."""
    match = _WINDOW.match(window)
    if match is None:
        raise ValueError(_EXAMPLE)
    start = _time_of_day(match.group(1), match.group(2), "start")
    end = _time_of_day(match.group(3), match.group(4), "end")
    if start == end:
        raise ValueError(
            "start and end are the same time, so the window is empty or the whole day; "
            "remove quiet_hours to have none"
        )
    return start, end


def check_zone(zone: str) -> ZoneInfo:
    """The IANA zone named `zone`; ValueError when there is no such zone."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not an IANA time zone like 'Europe/Zurich'") from None


@dataclass(frozen=True)
class QuietHours:
    """Daily hours during which a destination posts only high alerts."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, window: str, zone: str) -> QuietHours:
        """From the config's `quiet_hours` and `timezone`; ValueError saying what is wrong."""
        start, end = check_window(window)
        return cls(start, end, check_zone(zone))

    def active(self, at: datetime) -> bool:
        """Whether `at` (tz-aware) falls inside the window, read on the local wall clock."""
        if at.tzinfo is None:
            raise ValueError("quiet hours need a tz-aware time")
        local = at.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight

    @property
    def until(self) -> str:
        """When they end, as people read it: "07:00 Europe/Zurich"."""
        return f"{self.end:%H:%M} {self.zone.key}"

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


def quiet_note(until: str, waiting: int) -> str:
    """What status and `check` say: "quiet hours until 07:00 Europe/Zurich: 3 alerts waiting"."""
    return f"quiet hours until {until}: {waiting} alert{'' if waiting == 1 else 's'} waiting"
