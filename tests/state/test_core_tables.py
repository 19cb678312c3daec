"""The Core tables (state/core_tables.py) match the SQLModel tables column
for column: a column added or changed in state/tables.py without its Core twin fails here."""

from __future__ import annotations

import pytest
from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, Text, TypeDecorator
from sqlmodel import SQLModel

import state.tables  # noqa: F401  (registers the SQLModel tables)
from state import core_tables


def _shape(column: Column[object]) -> tuple[str, str, bool, bool, bool]:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # SQLModel's AutoString wraps String
        kind = kind.impl_instance
    # Text before String: a Text is a String.
    family = next(
        t.__name__ for t in (Text, String, Integer, Boolean, DateTime, Date) if isinstance(kind, t)
    )
    zoned = bool(getattr(kind, "timezone", False))
    return column.name, family, zoned, bool(column.nullable), column.primary_key


@pytest.mark.parametrize("name", sorted(core_tables.metadata.tables))
def test_core_table_has_the_sqlmodel_tables_columns(name: str) -> None:
    core = core_tables.metadata.tables[name]
    orm = SQLModel.metadata.tables[name]
    assert [_shape(c) for c in core.columns] == [_shape(c) for c in orm.columns]


def test_every_table_status_reads_has_a_core_twin() -> None:
    read = {"snapshot", "poll_state", "alert", "delivery", "registry_version", "history_state"}
    assert read | {"triage_action"} <= set(core_tables.metadata.tables)
