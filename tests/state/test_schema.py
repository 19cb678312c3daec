"""Each table is defined once (state/schema.py): the Core statements' tables are the SQLModel
tables that migrations compare against, so a column cannot exist in one and not the other."""

from __future__ import annotations

import pytest
from sqlalchemy import Table
from sqlmodel import SQLModel

from state import schema

TABLES = sorted(SQLModel.metadata.tables)


@pytest.mark.parametrize("name", TABLES)
def test_the_core_handle_is_the_sqlmodel_table(name: str) -> None:
    assert getattr(schema, name) is SQLModel.metadata.tables[name]


def test_every_core_handle_is_a_table_of_the_one_schema() -> None:
    handles = {name for name in schema.__all__ if isinstance(getattr(schema, name), Table)}
    assert handles == set(TABLES)
