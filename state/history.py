"""Stored registry history: versions per trial and the import's own health. Never alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from state.history_read import health_in, versions_in
from state.schema import HistoryStateRow, RegistryVersionRow
from state.types import HistoryHealth
from watchers.model import RegistryVersion

__all__ = ["RegistryHistory"]


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
