"""One poll, stored: load -> diff -> enrich -> write, in ONE transaction on ONE connection.

Each step is a module that owns its input and output types: load.py (Loaded, then the
Evidence enrichment asks for), diff.py (Diff: pure), enrich.py (Enrichment: pure), write.py.
The diff runs inside the transaction, so two processes cannot interleave a read of the
snapshot and the write of its successor. `owner`: the poll lease is given back in the same
commit; a poller whose lease was taken over stores nothing (outcome "skipped").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from state.poll.leases import lease_lost, load_state, release_in
from state.poll.write import Destinations, record_unchanged, write_failure
from state.types import Change, PollOutcome
from watchers.model import SourceResult, clean_text

__all__ = ["PollReport", "apply_poll", "record_failure"]


@dataclass(frozen=True)
class PollReport:
    """What committing one poll did."""

    outcome: PollOutcome
    changes: tuple[Change, ...]


def apply_poll(
    engine: Engine,
    result: SourceResult,
    *,
    started: datetime,
    at: datetime,
    destinations: Destinations,
    max_per_poll: int,
    owner: str | None = None,
) -> PollReport:
    """Commit a successful poll; the first poll is a silent baseline."""
    if result.unchanged:  # 304 / same stamp, polled earlier today: one UPDATE, no snapshot
        with engine.connect() as connection:
            if record_unchanged(connection, result, started=started, at=at, owner=owner):
                connection.commit()
                return PollReport(outcome=PollOutcome.UNCHANGED, changes=())
    # Only a poll that brought something diffs: a `check` of unchanged feeds never imports
    # the diff, the evidence loading or the story folding.
    from state.poll.diff import diff_poll
    from state.poll.enrich import enrich
    from state.poll.load import load_evidence, load_poll
    from state.poll.write import write_poll

    with Session(engine) as session:
        loaded = load_poll(session, result, at, owner)
        if loaded is None:
            return _lease_lost(result.topic, result.source)
        state = loaded.state
        found = diff_poll(
            loaded.snapshot,
            result,
            last_success=state.last_success,
            baseline=loaded.baseline,
            clocks_move=loaded.clocks_move,
            at=at,
        )
        evidence = load_evidence(session, found.changes, result, at)
        enriched = enrich(found.changes, result.observations, evidence)
        outcome, alerts = write_poll(
            session,
            result,
            loaded,
            found,
            enriched,
            started=started,
            at=at,
            destinations=destinations,
            max_per_poll=max_per_poll,
        )
        session.commit()
    return PollReport(outcome=outcome, changes=tuple(alerts))


def record_failure(
    engine: Engine,
    topic: str,
    source: str,
    error: str,
    *,
    started: datetime,
    at: datetime,
    destinations: Destinations,
    failures_before_alert: int,
    owner: str | None = None,
) -> PollReport:
    """Commit a failed poll as source health; the snapshot is left exactly as it was."""
    error = clean_text(error)  # any exception's words, storable on every database
    with Session(engine) as session:
        state = load_state(session, topic, source)
        if owner is not None and not release_in(state, owner):
            return _lease_lost(topic, source)
        changes = write_failure(
            session,
            state,
            error,
            started=started,
            at=at,
            destinations=destinations,
            failures_before_alert=failures_before_alert,
        )
        session.commit()
    return PollReport(outcome=PollOutcome.FAILED, changes=tuple(changes))


def _lease_lost(topic: str, source: str) -> PollReport:
    lease_lost(topic, source)
    return PollReport(outcome=PollOutcome.SKIPPED, changes=())
