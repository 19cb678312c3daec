"""Who acknowledged the alerts a page shows: one read of the triage ledger for all of them.

The status card's TriageSummary says what is snoozed and muted but only the latest actions,
so the page reads the acknowledgements of its own alerts (the first one of each counts, as
state/triage.py's `acknowledgement`). Belongs in state/triage_read.py once state/ settles.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select

from state.core_tables import triage_action
from state.triage_read import action_from_row
from state.triage_types import Acknowledgement, TriageKind

__all__ = ["acknowledgements"]


def acknowledgements(
    engine: Engine, alert_ids: Iterable[int], at: datetime
) -> dict[int, Acknowledgement]:
    """The first acknowledgement up to `at` of each of these alerts that has one, by alert id."""
    wanted = set(alert_ids)
    if not wanted:
        return {}
    query = (
        select(triage_action)
        .where(
            triage_action.c.action == TriageKind.ACKNOWLEDGE.value,
            triage_action.c.alert_id.in_(wanted),
            triage_action.c.at <= at,
        )
        .order_by(triage_action.c.id.desc())  # the first one written last wins below
    )
    with engine.connect() as connection:
        actions = [action_from_row(row) for row in connection.execute(query)]
    return {a.alert_id: Acknowledgement(a.user_id, a.user_name, a.at) for a in actions}
