"""The `status` card as terminal text, built from stored state only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.destinations.quiet import quiet_note
from bot.destinations.render import KIND_WORDS  # the alerts' own words: "changed", "source down"
from bot.status.overview import ALERTS_HEADING, alerts_left_out
from bot.status.triage_lines import triage_lines
from bot.status.trial_facts import site_summary, verification_note
from bot.terminal_text import one_line
from state.compliance import clock_note
from state.fields import field_label, format_value, humanize_enum, source_label, status_words
from state.timeline import timeline_lines
from state.types import (
    Alert,
    DestinationHealth,
    HistoryHealth,
    SourceHealth,
    StoredObservation,
    TopicStatus,
)
from watchers.model import RegistryVersion, Topic
from watchers.registry import trial_registries, wording

__all__ = [
    "KEY_TRIAL_FIELDS",
    "alert_summary",
    "destination_text",
    "format_time",
    "health_text",
    "history_health_text",
    "link_registries",
    "status_text",
    "trial_facts",
    "trials_missing_reason",
]

# What a clinical team asks first about a trial, in the order they ask it (the specs' words).
_WORDING = wording()
KEY_TRIAL_FIELDS = _WORDING.key_facts


def format_time(value: datetime | None) -> str:
    """A UTC time to the minute, or 'never'."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def link_registries(
    trials: Iterable[StoredObservation],
) -> tuple[list[StoredObservation], dict[str, list[StoredObservation]]]:
    """One entry per trial: a record that names another stored record's trial id (an EU CT
    number naming its NCT id, `_nct_id`) is listed under that trial, not beside it."""
    trials = list(trials)
    keys = {stored.observation.key for stored in trials}
    primary: list[StoredObservation] = []
    linked: dict[str, list[StoredObservation]] = {}
    for stored in trials:
        other = stored.observation.fields.get("_nct_id")
        if isinstance(other, str) and other != stored.observation.key and other in keys:
            linked.setdefault(other, []).append(stored)
        else:
            primary.append(stored)
    return primary, linked


def trial_facts(
    stored: StoredObservation,
    linked: Iterable[StoredObservation] = (),
    *,
    now: datetime | None = None,
) -> list[tuple[str, str, str]]:
    """(label, value, when it last changed) for each key field of a stored trial, its results
    clock, verification and sites, then the status of the same trial in other registries.

    With `now`, a status not verified by the sponsor for over a year is flagged.
    """
    facts = []
    fields = stored.observation.fields
    for name in KEY_TRIAL_FIELDS:
        if name not in fields:
            continue  # a registry that does not publish it (EU CTIS has no enrollment)
        value = fields.get(name)
        if value is None and name in _WORDING.optional_facts:
            continue
        text = status_words(fields) if name == _WORDING.status else format_value(name, value)
        facts.append((field_label(name), text, _when(stored, name)))
    note = clock_note(fields, now.date()) if now else None
    if note is not None:
        facts.append((field_label("results_clock"), note, "FDA-regulated drug study"))
    verified = verification_note(fields, now)
    if verified is not None:
        facts.append((field_label("status_verified"), verified, _when(stored, "status_verified")))
    if "sites" in fields:  # not in records stored before sites were tracked
        facts.append((field_label("sites"), site_summary(fields), _when(stored, "sites")))
    status_field = _WORDING.status or ""
    for other in linked:
        label = f"{source_label(other.observation.source)} {other.observation.key}"
        status = format_value(status_field, other.observation.fields.get(status_field))
        facts.append((label, status, _when(other, status_field)))
    return facts


def _when(stored: StoredObservation, name: str) -> str:
    changed = stored.field_changed_at.get(name)
    if changed:
        return f"changed {format_time(changed)}"
    return f"unchanged since first seen {format_time(stored.first_seen)}"


def alert_summary(alert: Alert) -> str:
    """What an alert said, on one line: its field changes, else its note."""
    change = alert.change
    return "; ".join(fc.text for fc in change.field_changes) or change.detail or ""


def _trial_lines(
    stored: StoredObservation,
    linked: list[StoredObservation],
    now: datetime | None,
    history: tuple[RegistryVersion, ...],
) -> list[str]:
    obs = stored.observation
    removed = f"  [REMOVED from the registry {format_time(stored.removed_at)}]"
    lines = [f"  {obs.key}  {obs.title}" + (removed if stored.removed_at else "")]
    facts = trial_facts(stored, linked, now=now)
    lines += [f"    {label}: {value}  ({when})" for label, value, when in facts]
    timeline = timeline_lines(history, status_words=humanize_enum, live=stored)
    lines += [f"    {line}" for line in timeline]
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
    if health.quiet_until:
        line += f"; {quiet_note(health.quiet_until, health.pending)}"
    elif health.pending:
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
        primary, linked = link_registries(status.trials)
        for stored in primary:
            key = stored.observation.key
            lines += _trial_lines(stored, linked.get(key, []), now, status.history.get(key, ()))
    else:
        lines.append(f"  none stored yet: {trials_missing_reason(status)}")
    lines += ["", ALERTS_HEADING]
    if status.recent_alerts:
        for alert in status.recent_alerts:
            change = alert.change
            summary = alert_summary(alert)
            lines.append(
                f"  {format_time(alert.created_at)}  [{change.severity.value}] "
                f"{KIND_WORDS.get(change.kind, change.kind.value)}"
                f"  {source_label(change.source)}  {change.title}"
                + (f" — {summary}" if summary else "")
            )
    else:
        lines.append("  none yet")
    if more := alerts_left_out(topic, status, len(status.recent_alerts)):
        lines.append(f"  … {more[0]}: {more[1]}")
    if not status.triage.empty:  # acknowledged / snoozed / muted in Slack (bot/slack/triage/)
        lines += ["", "Triage", *(f"  {line}" for line in triage_lines(status.triage))]
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
