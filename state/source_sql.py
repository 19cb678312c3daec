"""SQL for "rows of these sources": a spec family is its id, or `<id>:<name>` for instances."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_

from watchers.spec import SourceSpec

__all__ = ["from_sources"]


def from_sources(column: Any, specs: Iterable[SourceSpec]) -> ColumnElement[bool]:
    """A condition true for the rows whose `column` names a source of one of `specs`."""
    specs = list(specs)
    exact = [spec.id for spec in specs if not spec.instances]
    conditions = [column.like(f"{spec.id}:%") for spec in specs if spec.instances]
    if exact:
        conditions.append(column.in_(exact))
    return or_(*conditions) if conditions else false()
