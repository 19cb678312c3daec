"""Stored registry history: versions per trial and the import's own health. Never alerts."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from state.codec import dump_fields, load_fields
from state.schema import HistoryStateRow, RegistryVersionRow, history_state, registry_version
from state.types import HistoryHealth
from watchers.model import RegistryVersion
from watchers.registry import history_registries

__all__ = ["RegistryHistory", "health_in", "versions_in"]


class RegistryHistory:
    """Reads and writes registry_version and history_state; each call is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def versions(self, nct: str) -> list[RegistryVersion]:
        """Every stored version of a trial, oldest first."""
        return self.versions_of([nct]).get(nct, [])

    def versions_of(self, ncts: Iterable[str]) -> dict[str, list[RegistryVersion]]:
        """Stored versions of several trials in one query, oldest first per trial."""
        wanted = set(ncts)
        if not wanted:  # no query (and no connection) for nothing
            return {}
        with Session(self._engine) as session:
            return versions_in(session.connection(), wanted)

    def known_versions(self, nct: str) -> set[int]:
        """Version numbers already stored for a trial."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(RegistryVersionRow.version).where(RegistryVersionRow.nct_id == nct)
            ).all()
        return set(rows)

    def add(self, version: RegistryVersion, *, at: datetime) -> None:
        """Store one fetched version (already stored: left as it is)."""
        with Session(self._engine) as session:
            if session.get(RegistryVersionRow, (version.nct, version.version)) is None:
                session.add(
                    RegistryVersionRow(
                        nct_id=version.nct,
                        version=version.version,
                        date=version.date,
                        overall_status=version.overall_status,
                        start_date=version.start_date,
                        primary_completion_date=version.primary_completion_date,
                        completion_date=version.completion_date,
                        enrollment=version.enrollment,
                        module_labels_json=json.dumps(list(version.module_labels)),
                        protocol_json=dump_fields(version.protocol),
                        imported_at=at,
                    )
                )
                session.commit()

    def health(self, ncts: Iterable[str]) -> list[HistoryHealth]:
        """The import's health for these trials (those ever attempted), by trial id."""
        wanted = set(ncts)
        if not wanted:
            return []
        with Session(self._engine) as session:
            return health_in(session.connection(), wanted)

    def caught_up_with(self, nct: str) -> str | None:
        """The live record's update date the last complete import reached (None: never)."""
        with Session(self._engine) as session:
            row = session.get(HistoryStateRow, nct)
            return row.caught_up_with if row and row.last_success else None

    def record_success(self, nct: str, *, at: datetime, caught_up_with: str | None) -> None:
        """The import of a trial completed: every listed version is stored."""
        with Session(self._engine) as session:
            row = session.get(HistoryStateRow, nct) or HistoryStateRow(nct_id=nct)
            row.last_attempt = row.last_success = at
            row.consecutive_failures = 0
            row.last_error = None
            row.caught_up_with = caught_up_with
            session.add(row)
            session.commit()

    def record_failure(self, nct: str, *, at: datetime, error: str) -> None:
        """The import of a trial failed; versions stored so far stay, the next run resumes."""
        with Session(self._engine) as session:
            row = session.get(HistoryStateRow, nct) or HistoryStateRow(nct_id=nct)
            row.last_attempt = at
            row.consecutive_failures += 1
            row.last_error = error
            session.add(row)
            session.commit()


# Reads on a caller's connection (the status card's, in Core: no ORM session).


def _version(row: Row[Any]) -> RegistryVersion:
    return RegistryVersion(
        nct=row.nct_id,
        version=row.version,
        date=row.date,
        overall_status=row.overall_status,
        start_date=row.start_date,
        primary_completion_date=row.primary_completion_date,
        completion_date=row.completion_date,
        enrollment=row.enrollment,
        module_labels=tuple(json.loads(row.module_labels_json)),
        protocol=load_fields(row.protocol_json),
    )


def _health(row: Row[Any]) -> HistoryHealth:
    return HistoryHealth(
        nct=row.nct_id,
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
        caught_up_with=row.caught_up_with,
    )


def versions_in(connection: Connection, ncts: Collection[str]) -> dict[str, list[RegistryVersion]]:
    """Stored versions of several trials in one query, oldest first per trial."""
    wanted = sorted(set(ncts))
    if not wanted:
        return {}
    rows = connection.execute(
        core_select(registry_version)
        .where(registry_version.c.nct_id.in_(wanted))
        .order_by(registry_version.c.nct_id, registry_version.c.version)
    )
    found: dict[str, list[RegistryVersion]] = {}
    for row in rows:
        found.setdefault(row.nct_id, []).append(_version(row))
    return found


def _has_history(key: str) -> bool:
    return any(h.record_id(key) == key for h in history_registries().values())


def health_in(connection: Connection, ncts: Collection[str]) -> list[HistoryHealth]:
    """The import's health for these trials (those ever attempted), by trial id.

    Only ids a source's history knows: lines an older version stored for others (EU CTIS
    numbers it sent to ClinicalTrials.gov) are not the import's health.
    """
    wanted = sorted(k for k in set(ncts) if _has_history(k))
    if not wanted:
        return []
    rows = connection.execute(
        core_select(history_state)
        .where(history_state.c.nct_id.in_(wanted))
        .order_by(history_state.c.nct_id)
    )
    return [_health(row) for row in rows]
