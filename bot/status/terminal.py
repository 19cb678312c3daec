"""The `status` card as terminal text, built from stored state only."""

from __future__ import annotations

from datetime import datetime

from bot.terminal_text import one_line
from state.clocks import clock_note
from state.fields import field_label, format_value, humanize_enum, source_label, status_words
from state.timeline import timeline_lines
from state.trial_facts import site_summary, verification_note
from state.types import (
    Alert,
    DestinationHealth,
    HistoryHealth,
    SourceHealth,
    StoredObservation,
    TopicStatus,
)
from watchers.ctgov_history import RegistryVersion
from watchers.model import Topic
from watchers.registry import trial_registries

__all__ = [
    "KEY_TRIAL_FIELDS",
    "alert_summary",
    "destination_text",
    "format_time",
    "health_text",
    "history_health_text",
    "status_text",
    "trial_facts",
    "trials_missing_reason",
]

# What a clinical team asks first about a trial, in the order they ask it.
KEY_TRIAL_FIELDS = (
    "overall_status",
    "why_stopped",
    "enrollment",
    "start_date",
    "primary_completion_date",
    "completion_date",
    "has_results",
    "results_first_posted",
)


def format_time(value: datetime | None) -> str:
    """A UTC time to the minute, or 'never'."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def trial_facts(
    stored: StoredObservation, *, now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """(label, value, when it last changed) for each key field of a stored trial.

    With `now`, a status not verified by the sponsor for over a year is flagged.
    """
    facts = []
    fields = stored.observation.fields
    for name in (*KEY_TRIAL_FIELDS, "results_clock", "status_verified", "sites"):
        value = fields.get(name)
        if value is None and name in ("why_stopped", "results_first_posted", "status_verified"):
            continue
        if name == "sites" and name not in fields:
            continue  # stored before sites were tracked
        if name == "results_clock":
            note = clock_note(fields, now.date()) if now else None
            if note is not None:
                facts.append((field_label(name), note, "FDA-regulated drug study"))
            continue
        changed = stored.field_changed_at.get(name)
        when = (
            f"changed {format_time(changed)}"
            if changed
            else f"unchanged since first seen {format_time(stored.first_seen)}"
        )
        if name == "overall_status":
            text = status_words(fields)
        elif name == "status_verified":
            text = verification_note(fields, now) or format_value(name, value)
        elif name == "sites":
            text = site_summary(fields)
        else:
            text = format_value(name, value)
        facts.append((field_label(name), text, when))
    return facts


def alert_summary(alert: Alert) -> str:
    """What an alert said, on one line: its field changes, else its note."""
    change = alert.change
    return "; ".join(fc.text for fc in change.field_changes) or change.detail or ""


def _trial_lines(
    stored: StoredObservation, now: datetime | None, history: tuple[RegistryVersion, ...]
) -> list[str]:
    obs = stored.observation
    removed = f"  [REMOVED from the registry {format_time(stored.removed_at)}]"
    lines = [f"  {obs.key}  {obs.title}" + (removed if stored.removed_at else "")]
    lines += [
        f"    {label}: {value}  ({when})" for label, value, when in trial_facts(stored, now=now)
    ]
    lines += [f"    {line}" for line in timeline_lines(history, status_words=humanize_enum)]
    lines.append(f"    {obs.url}")
    return lines


def _health_line(health: SourceHealth) -> str:
    return f"  {health_text(health)}"


def health_text(health: SourceHealth) -> str:
    """One source's health in words: ok or FAILING, last success, failures, last error."""
    last = format_time(health.last_success)
    if health.consecutive_failures == 0:
        line = f"{source_label(health.source)}: ok, last success {last}"
    else:
        line = (
            f"{source_label(health.source)}: FAILING, last poll failed at "
            f"{format_time(health.last_failure)}, last success {last}"
        )
    if health.consecutive_failures:
        line += (
            f"; {health.consecutive_failures} failed poll(s) in a row, "
            f"last error: {health.last_error}"
        )
    if health.stale:
        line += f"; STALE: {health.stale}"
    return line


def destination_text(health: DestinationHealth) -> str:
    """One destination's health in words: ok or FAILING, waiting alerts, why, last delivery."""
    line = f"{health.destination}: {'FAILING' if health.failing else 'ok'}"
    line += f", last delivery {format_time(health.last_delivered)}"
    if health.pending:
        line += f"; {health.pending} waiting"
    if health.retry_error:
        line += f"; retrying since {format_time(health.retry_since)}: {health.retry_error}"
    if health.failed:
        line += (
            f"; {health.failed} failed for good, latest {format_time(health.last_failed_at)}: "
            f"{health.last_failed_error}"
        )
    return line


def trials_missing_reason(status: TopicStatus) -> str:
    """Why no trial is stored: the registry's last poll failed (when, why), or it never ran."""
    registries = trial_registries()
    failed = next(
        (h for h in status.health if h.source in registries and h.consecutive_failures), None
    )
    if failed is None:
        names = " or ".join(source_label(r) for r in registries) or "trial registry"
        return f"the first {names} poll has not run (run `trialwatch check`)"
    return (
        f"the last {source_label(failed.source)} poll failed at "
        f"{format_time(failed.last_failure)}: {failed.last_error or 'unknown error'}"
    )


def history_health_text(health: HistoryHealth) -> str:
    """The registry-history import's health for one trial, in words."""
    last = format_time(health.last_success)
    if health.consecutive_failures == 0:
        return f"Registry history {health.nct}: ok, last import {last}"
    return (
        f"Registry history {health.nct}: FAILING, last import {last}; "
        f"{health.consecutive_failures} failed import(s) in a row, last error: "
        f"{health.last_error} (alerts are unaffected)"
    )


def status_text(topic: Topic, status: TopicStatus, *, now: datetime | None = None) -> str:
    """The whole status card: trials, latest alerts, failed deliveries, source health."""
    names = ", ".join(topic.aliases)
    lines = [f"{topic.name}" + (f" (also: {names})" if names else ""), "", "Trials"]
    if status.trials:
        for stored in status.trials:
            lines += _trial_lines(stored, now, status.history.get(stored.observation.key, ()))
    else:
        lines.append(f"  none stored yet: {trials_missing_reason(status)}")
    lines += ["", "Latest alerts"]
    if status.recent_alerts:
        for alert in status.recent_alerts:
            change = alert.change
            summary = alert_summary(alert)
            lines.append(
                f"  {format_time(alert.created_at)}  [{change.severity.value}] {change.kind.value}"
                f"  {source_label(change.source)}  {change.title}"
                + (f" — {summary}" if summary else "")
            )
    else:
        lines.append("  none yet")
    if status.failed_deliveries:
        lines += ["", "Failed deliveries (not retried)"]
        for alert in status.failed_deliveries:
            where = f"{alert.destination} {alert.channel or ''}".strip()
            lines.append(f"  alert {alert.id} to {where}: {alert.last_error}")
    lines += ["", "Sources (last successful check)"]
    if status.health:
        lines += [_health_line(h) for h in status.health]
        lines += [f"  {history_health_text(h)}" for h in status.history_health]
    else:
        lines.append("  not checked yet")
    if status.destinations:
        lines += ["", "Destinations (every topic)"]
        lines += [f"  {destination_text(h)}" for h in status.destinations]
    # Every line is built from one-line fields: fold what a source put in them (11.3).
    return "\n".join(one_line(line) for line in lines)
