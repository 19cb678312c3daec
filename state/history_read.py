"""Reads of stored registry history on a caller's connection (Core: `status` builds no ORM)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, select

from state.schema import history_state, registry_version
from state.types import HistoryHealth
from watchers.model import RegistryVersion
from watchers.registry import history_registries

__all__ = ["health_in", "versions_in"]


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
        select(registry_version)
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
        select(history_state)
        .where(history_state.c.nct_id.in_(wanted))
        .order_by(history_state.c.nct_id)
    )
    return [_health(row) for row in rows]
