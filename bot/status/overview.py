"""Pure: what every status card says about itself: alerts left out, and whether sources are ok.

One place for both, so `status`, the `/status` card and its notification text agree.
"""

from __future__ import annotations

import shlex

from state.types import HistoryHealth, SourceHealth, TopicStatus
from watchers.model import Topic

__all__ = ["ALERTS_HEADING", "alerts_left_out", "failing", "failing_lines"]

ALERTS_HEADING = "Alerts (high ones nobody acknowledged first, then newest)"


def alerts_left_out(topic: Topic, status: TopicStatus, shown: int) -> tuple[str, str] | None:
    """("7 more alerts", the command that lists them) when a card shows `shown` of them."""
    more = max(status.alert_count, len(status.recent_alerts)) - shown
    if more <= 0:
        return None
    noun = "alert" if more == 1 else "alerts"
    return f"{more} more {noun}", f"trialwatch status {shlex.quote(topic.name)} --all"


def failing(health: SourceHealth | HistoryHealth) -> bool:
    """A source or history line that is not ok: failing polls or imports, or stale data."""
    stale = health.stale if isinstance(health, SourceHealth) else None
    return health.consecutive_failures > 0 or bool(stale)


def failing_lines(status: TopicStatus) -> int:
    """How many source and registry-history lines of the card are not ok."""
    lines: list[SourceHealth | HistoryHealth] = [*status.health, *status.history_health]
    return sum(failing(h) for h in lines)
