"""The write step of a poll: snapshot rows, alert rows with deliveries (where each goes: the
Routes given to the store once at start-up), health, the poll run; a failed poll's health; an
unchanged poll's one UPDATE."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Insert, Update, bindparam, insert, update
from sqlmodel import Session, col, select

from state.codec import aware, dump_field_changes
from state.fields import source_label
from state.poll.leases import save_state
from state.poll.snapshot import write_snapshot
from state.schema import AlertRow, DeliveryRow, PollStateRow, poll_run, poll_state
from state.types import (
    Change,
    ChangeKind,
    DeliveryState,
    PollOutcome,
    Severity,
)
from watchers.model import SourceResult

if TYPE_CHECKING:  # the unchanged poll's path imports none of them
    from state.poll.diff import Diff
    from state.poll.enrich import Enrichment
    from state.poll.load import Loaded

__all__ = [
    "Destinations",
    "Route",
    "Routes",
    "add_alert",
    "add_run",
    "health_change",
    "record_unchanged",
    "storm_change",
    "write_failure",
    "write_poll",
]


def write_poll(
    session: Session,
    result: SourceResult,
    loaded: Loaded,
    found: Diff,
    enriched: Enrichment,
    *,
    started: datetime,
    at: datetime,
    destinations: Destinations,
    max_per_poll: int,
) -> tuple[PollOutcome, list[Change]]:
    """Everything a successful poll changes, in the caller's transaction; the alerts it made.
    The snapshot's change times come from the diff (`found`), never compared again."""
    state, baseline = loaded.state, loaded.baseline
    if not result.unchanged:
        write_snapshot(session, result, loaded.snapshot, at, same=found.same, changed=found.fields)
    _update_earlier_alerts(session, enriched)
    changes = list(enriched.changes)
    held = len(changes) > max_per_poll
    if held:  # a storm (often a source format change): one alert says so, the rest wait;
        # the notice is the newest, so `status` shows it on top of the alerts it holds
        changes.append(storm_change(result, changes, max_per_poll))
    if state.down_alerted:
        changes.append(health_change(ChangeKind.SOURCE_RECOVERED, state, at))
    for change in changes:
        add_alert(session, change, at, destinations)
    if held:
        _hold(session, result, at)
    state.baseline_at = state.baseline_at or at
    state.last_attempt = state.last_success = at
    state.consecutive_failures = 0
    state.failing_since = None
    state.down_alerted = False
    state.last_error = None
    state.meta_json = json.dumps(dict(result.meta) or json.loads(state.meta_json))
    save_state(session, state)
    outcome = (
        PollOutcome.BASELINE
        if baseline
        else PollOutcome.UNCHANGED
        if result.unchanged
        else PollOutcome.OK
    )
    add_run(session, result.topic, result.source, started, at, outcome, len(changes), None)
    return outcome, changes


def write_failure(
    session: Session,
    state: PollStateRow,
    error: str,
    *,
    started: datetime,
    at: datetime,
    destinations: Destinations,
    failures_before_alert: int,
) -> list[Change]:
    """A failed poll as health only (the snapshot untouched): one source_down alert at the
    threshold; the alerts it made."""
    state.last_attempt = state.last_failure = at
    state.consecutive_failures += 1
    state.failing_since = state.failing_since or at
    state.last_error = error
    changes: list[Change] = []
    if state.consecutive_failures >= failures_before_alert and not state.down_alerted:
        state.down_alerted = True
        changes.append(health_change(ChangeKind.SOURCE_DOWN, state, at))
        add_alert(session, changes[0], at, destinations)
    save_state(session, state)
    add_run(session, state.topic, state.source, started, at, PollOutcome.FAILED, 0, error)
    return changes


def record_unchanged(
    connection: Connection,
    result: SourceResult,
    *,
    started: datetime,
    at: datetime,
    owner: str | None,
) -> bool:
    """An unchanged poll (304, same stamp) of a healthy pair polled earlier the same day: the
    check recorded (health, last success, meta; the lease given back) in one UPDATE plus its
    run row. False, having written nothing, when the full step is needed: the first poll, a
    source back from an outage (its "recovered" alert), a new day (a results clock may move),
    or a lease no longer `owner`'s."""
    day = datetime.combine(at.date(), time(), at.tzinfo)
    values: dict[str, object] = {
        "u_topic": result.topic,
        "u_source": result.source,
        "u_day": day,
        "u_next_day": day + timedelta(days=1),
        "u_at": at,
    }
    if result.meta:  # else the stored meta stays, as in `write_poll`
        values["u_meta"] = json.dumps(dict(result.meta))
    if owner is not None:
        values["u_owner"] = owner
    unchanged, run = _unchanged_statements(bool(result.meta), owner is not None)
    if connection.execute(unchanged, values).rowcount != 1:
        return False
    connection.execute(run, _run(result.topic, result.source, started, at))
    return True


@functools.cache
def _unchanged_statements(meta: bool, owner: bool) -> tuple[Update, Insert]:
    """`record_unchanged`'s UPDATE (with the new meta, with the lease given back) and its run
    INSERT, built once: a poll pays neither for building nor for the cache key."""
    state = poll_state
    stamp = state.c.last_success.type
    conditions = [
        state.c.topic == bindparam("u_topic"),
        state.c.source == bindparam("u_source"),
        state.c.baseline_at.is_not(None),
        state.c.down_alerted.is_(False),
        # the day `clocks_may_move` compares
        state.c.last_success >= bindparam("u_day", type_=stamp),
        state.c.last_success < bindparam("u_next_day", type_=stamp),
    ]
    values: dict[str, object] = {
        "last_attempt": bindparam("u_at", type_=stamp),
        "last_success": bindparam("u_at", type_=stamp),
        "consecutive_failures": 0,
        "failing_since": None,
        "last_error": None,
    }
    if meta:
        values["meta_json"] = bindparam("u_meta")
    if owner:
        conditions.append(state.c.lease_owner == bindparam("u_owner"))
        values |= {"lease_owner": None, "lease_until": None}
    return update(state).where(*conditions).values(**values), _run_insert()


@functools.cache
def _run_insert() -> Insert:
    return insert(poll_run)


def storm_change(result: SourceResult, held: list[Change], limit: int) -> Change:
    """The one alert that tells of a held storm, and how to release or drop it."""
    label = source_label(result.source)
    loud = any(change.severity is Severity.HIGH for change in held)
    command = f'trialwatch release "{result.topic}" "{result.source}"'
    return Change(
        kind=ChangeKind.HELD,
        topic=result.topic,
        source=result.source,
        key=result.source,
        title=(
            f"{len(held)} changes from {label} in one poll, held "
            "(often a source format change): see `trialwatch status`"
        ),
        url="",
        severity=Severity.HIGH if loud else Severity.NORMAL,
        detail=(
            f"More than {limit} alerts ([alerts].max_per_poll) from one poll are stored but not "
            f"posted. Post them: `{command}`; drop them: `{command} --drop`."
        ),
    )


def _hold(session: Session, result: SourceResult, at: datetime) -> None:
    """Hold the deliveries of this poll's alerts, all but the storm notice itself."""
    session.flush()
    storm = (
        select(AlertRow.id)
        .where(
            AlertRow.topic == result.topic,
            AlertRow.source == result.source,
            AlertRow.created_at == at,
            col(AlertRow.kind).not_in([ChangeKind.HELD.value, ChangeKind.SOURCE_RECOVERED.value]),
        )
        .scalar_subquery()
    )
    session.exec(
        update(DeliveryRow)
        .where(col(DeliveryRow.alert_id).in_(storm))
        .values(state=DeliveryState.HELD.value)
    )


def _update_earlier_alerts(session: Session, enriched: Enrichment) -> None:
    """Another outlet named on an alert stored earlier; a claim confirmed later."""
    for alert_id in sorted(set(enriched.outlets) | set(enriched.claim_labels)):
        row = session.get(AlertRow, alert_id)
        if row is None:
            continue  # gone meanwhile (never: alerts are kept); nothing to update
        if alert_id in enriched.outlets:
            row.also_reported_by_json = json.dumps(list(enriched.outlets[alert_id]))
        if alert_id in enriched.claim_labels:
            row.claim_label = enriched.claim_labels[alert_id]
        session.add(row)


# Where a poll's new alerts go.

_RANK = {Severity.LOW: 0, Severity.NORMAL: 1, Severity.HIGH: 2}


@dataclass(frozen=True)
class Route:
    """Where a topic's alerts go on one destination, and from which severity on."""

    channel: str | None = None
    min_severity: Severity = Severity.LOW

    def accepts(self, severity: Severity) -> bool:
        """Whether an alert of `severity` is delivered here."""
        return _RANK[severity] >= _RANK[self.min_severity]


# Where each new alert goes: destination name -> its route (a bare channel: every severity).
Destinations = Mapping[str, Route | str | None]


def _as_route(value: Route | str | None) -> Route:
    """A destination's route; a bare channel (or None) accepts every severity."""
    return value if isinstance(value, Route) else Route(channel=value)


@dataclass(frozen=True)
class Routes:
    """Every topic's destinations; a topic not listed gets `default` (none: stored, not sent)."""

    by_topic: Mapping[str, Destinations] = field(default_factory=dict)
    default: Destinations = field(default_factory=dict)

    def of(self, topic: str) -> Destinations:
        """Where `topic`'s new alerts go."""
        return self.by_topic.get(topic, self.default)


def add_alert(session: Session, change: Change, at: datetime, destinations: Destinations) -> None:
    """Insert one alert and a pending delivery per destination that takes its severity."""
    row = AlertRow(
        created_at=at,
        kind=change.kind.value,
        topic=change.topic,
        source=change.source,
        key=change.key,
        title=change.title,
        url=change.url,
        severity=change.severity.value,
        matched_alias=change.matched_alias,
        matched_in=change.matched_in,
        excerpt=change.excerpt,
        published=change.published,
        detail=change.detail,
        field_changes_json=dump_field_changes(change.field_changes),
        claim_label=change.claim_label,
        also_reported_by_json=json.dumps(list(change.also_reported_by)),
        thread_of=change.thread_of,
    )
    session.add(row)
    session.flush()  # assigns row.id for the deliveries
    assert row.id is not None
    for destination, value in destinations.items():
        route = _as_route(value)
        if route.accepts(change.severity):
            session.add(
                DeliveryRow(alert_id=row.id, destination=destination, channel=route.channel)
            )


def add_run(
    session: Session,
    topic: str,
    source: str,
    started: datetime,
    at: datetime,
    outcome: PollOutcome,
    alerts: int,
    error: str | None,
) -> None:
    """Record one poll: outcome, alerts, error, duration (Core: nothing reads it back)."""
    row = _run(topic, source, started, at, outcome, alerts, error)
    session.connection().execute(_run_insert(), row)


def _run(
    topic: str,
    source: str,
    started: datetime,
    at: datetime,
    outcome: PollOutcome = PollOutcome.UNCHANGED,
    alerts: int = 0,
    error: str | None = None,
) -> dict[str, Any]:
    duration_ms = max(0, int((at - started).total_seconds() * 1000))
    return {
        "topic": topic,
        "source": source,
        "started_at": started,
        "duration_ms": duration_ms,
        "outcome": outcome.value,
        "alerts": alerts,
        "error": error,
    }


def health_change(kind: ChangeKind, state: PollStateRow, at: datetime) -> Change:
    """The source_down / source_recovered alert for a (topic, source)."""
    label = source_label(state.source)
    if kind is ChangeKind.SOURCE_DOWN:
        failing = aware(state.failing_since)
        since = failing.isoformat(timespec="minutes") if failing else "?"
        title = f"{label} is not answering ({state.consecutive_failures} failed polls)"
        detail = f"Failing since {since}. Last error: {state.last_error}"
    else:
        title = f"{label} is answering again"
        detail = f"Recovered at {at.isoformat(timespec='minutes')}."
    return Change(
        kind=kind,
        topic=state.topic,
        source=state.source,
        key=state.source,
        title=title,
        url="",
        severity=Severity.NORMAL,
        detail=detail,
    )
