"""Pure: stored state as JSON-ready dicts, the one shape the API, MCP and their schema share.

Values are plain strings, numbers and lists: JSON encoding escapes them for their target; a
source's URL is given only when bot/links.py says it is a web link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.destinations.render import KIND_WORDS
from bot.links import web_link
from bot.status.terminal import trial_facts
from state.fields import humanize_enum, source_label
from state.timeline import timeline_lines
from state.types import Alert, SourceHealth, StoredObservation, TopicStatus
from watchers.model import Topic

__all__ = ["alert_view", "health_view", "iso", "topic_view", "trial_view"]


def iso(when: datetime | None) -> str | None:
    """An ISO 8601 time (UTC offset kept), or None."""
    return when.isoformat() if when else None


def alert_view(alert: Alert) -> dict[str, Any]:
    """One alert: what happened, where, how loud, and the changed fields in words."""
    change = alert.change
    return {
        "id": alert.id,
        "created_at": iso(alert.created_at),
        "topic": change.topic,
        "severity": change.severity.value,
        "kind": KIND_WORDS.get(change.kind, change.kind.value),
        "source": change.source,
        "source_label": source_label(change.source),
        "record": change.key,
        "title": change.title,
        "url": web_link(change.url),
        "changes": [fc.text for fc in change.field_changes],
        "detail": change.detail,
        "excerpt": change.excerpt,
        "claim": change.claim_label,
        "published": iso(change.published),
    }


def health_view(health: SourceHealth) -> dict[str, Any]:
    """One source's answering for a topic: last success, failures in a row, staleness."""
    return {
        "source": health.source,
        "source_label": source_label(health.source),
        "last_success": iso(health.last_success),
        "consecutive_failures": health.consecutive_failures,
        "stale": health.stale or None,
    }


def topic_view(topic: Topic) -> dict[str, Any]:
    """A topic's names and trial ids."""
    return {
        "name": topic.name,
        "aliases": list(topic.aliases),
        "trials": [*topic.trials, *topic.eu_trials],
    }


def trial_view(stored: StoredObservation, status: TopicStatus, now: datetime) -> dict[str, Any]:
    """One trial: its key facts (with when each last changed) and its registry timeline."""
    obs = stored.observation
    versions = status.history.get(obs.key, ())
    return {
        "id": obs.key,
        "topic": status.topic,
        "source": obs.source,
        "title": obs.title,
        "url": web_link(obs.url),
        "facts": [
            {"label": label, "value": value, "changed": note or None}
            for label, value, note in trial_facts(stored, now=now)
        ],
        "timeline": timeline_lines(versions, status_words=humanize_enum, live=stored),
        "versions": len(versions),
    }


def status_view(
    topic: Topic, status: TopicStatus, alerts: Sequence[Alert], now: datetime
) -> dict[str, Any]:
    """A topic's status: its trials, the most important alerts, the count, source health."""
    return {
        "topic": topic_view(topic),
        "trials": [trial_view(s, status, now) for s in status.trials],
        "alerts": [alert_view(a) for a in alerts],
        "alert_count": status.alert_count,
        "sources": [health_view(h) for h in status.health],
    }
