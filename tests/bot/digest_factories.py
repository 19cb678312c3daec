"""Alerts as the pipeline stores them, with any claim label, outlets and Slack state."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from state.codec import dump_field_changes
from state.schema import AlertRow, DeliveryRow
from state.store import Store
from state.types import ChangeKind, DeliveryState, FieldChange, Severity

MARKUP = "<script>alert(1)</script> & <b>FDA</b>"
STATUS = FieldChange(
    "overall_status",
    "Status",
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "Status: Active, not recruiting → Completed",
)


def add_alert(
    store: Store,
    at: datetime,
    *,
    topic: str = "ulefnersen",
    source: str = "clinicaltrials",
    title: str = "FUSION: ION363 in FUS-ALS",
    url: str = "https://clinicaltrials.gov/study/NCT04768972",
    severity: Severity = Severity.NORMAL,
    kind: ChangeKind = ChangeKind.UPDATED,
    slack: DeliveryState | None = DeliveryState.SENT,
    field_changes: tuple[FieldChange, ...] = (),
    matched_alias: str | None = None,
    claim_label: str | None = None,
    also_reported_by: tuple[str, ...] = (),
) -> None:
    """An alert row as the pipeline would have stored it, with its Slack delivery state."""
    with Session(store.engine) as session:
        row = AlertRow(
            created_at=at,
            kind=kind.value,
            topic=topic,
            source=source,
            key=url or title,
            title=title,
            url=url,
            severity=severity.value,
            matched_alias=matched_alias,
            field_changes_json=dump_field_changes(field_changes),
            claim_label=claim_label,
            also_reported_by_json=json.dumps(list(also_reported_by)),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        if slack is not None:
            session.add(
                DeliveryRow(alert_id=row.id, destination="slack", channel="#x", state=slack.value)
            )
        session.commit()
