"""A topic's calendar read from stored state and its config: what every output starts from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine

from bot.calendar.model import Entry, entries
from bot.config import Settings
from bot.config.milestones import Milestone
from state.calendar import dated_facts

__all__ = ["guidance_of", "topic_calendar"]


def guidance_of(settings: Settings, topic: str) -> tuple[Milestone, ...]:
    """The `[[topics.milestones]]` the team entered for `topic`."""
    return next((t.milestones for t in settings.topics if t.name == topic), ())


def topic_calendar(
    engine: Engine, topic: str, guidance: Sequence[Milestone], today: date
) -> list[Entry]:
    """Every milestone of `topic`, soonest first."""
    return entries(topic, dated_facts(engine, topic, today), guidance)
