"""`status NAME --since 7d --severity high`: the status card with only the alerts a filter
matches, newest first, and its count of them (so "N more" counts matching alerts only)."""

from __future__ import annotations

from dataclasses import replace

from bot.read.filters import parse_filter
from bot.read_only import Reader
from state.alert_query import alert_page
from state.status import CARD_ALERTS
from state.types import TopicStatus

__all__ = ["filtered_card"]


def filtered_card(
    reader: Reader, card: TopicStatus, since: str | None, severity: str | None, *, every: bool
) -> TopicStatus:
    """`card` with the filter's alerts (all with `every`) and their total; raises FilterError."""
    which = parse_filter(card.topic, now=reader.clock(), since=since, severity=severity)
    page = alert_page(reader.store.engine, which, limit=None if every else CARD_ALERTS)
    return replace(card, recent_alerts=page.alerts, alert_count=page.total)
