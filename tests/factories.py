"""Small builders for observations and results used across the test suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from state.outbox import DEFAULT_DELIVERY_LEASE
from state.store import Store
from state.types import Alert
from watchers.model import Observation, SourceResult, freeze_fields

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

TRIAL_FIELDS: dict[str, Any] = {
    "brief_title": "FUSION: ION363 in FUS-ALS",
    "overall_status": "ACTIVE_NOT_RECRUITING",
    "why_stopped": None,
    "phases": ("PHASE3",),
    "enrollment": "95 (estimated)",
    "start_date": "2021-06-14 (actual)",
    "primary_completion_date": "2026-09 (estimated)",
    "completion_date": "2028-12 (estimated)",
    "has_results": False,
    "results_first_posted": None,
    "lead_sponsor": "Ionis Pharmaceuticals, Inc.",
    "sites": ("Columbia University | New York | New York | United States | RECRUITING",),
    "last_known_status": None,
    "status_verified": "2025-08",
    "fda_regulated_drug": True,
    "last_update_posted": "2025-08-22",
}


def trial(key: str = "NCT04768972", topic: str = "ulefnersen", **changes: Any) -> Observation:
    """A ClinicalTrials.gov observation with the FUSION fields, overridden by `changes`."""
    fields = {**TRIAL_FIELDS, **changes}
    return Observation(
        source="clinicaltrials",
        key=key,
        topic=topic,
        title=str(fields["brief_title"]),
        url=f"https://clinicaltrials.gov/study/{key}",
        fields=freeze_fields(fields),
        matched_alias="ION363",
    )


def result(
    *observations: Observation, gone: frozenset[str] = frozenset(), **kw: Any
) -> SourceResult:
    """A successful clinicaltrials poll result for topic ulefnersen."""
    return SourceResult(
        source="clinicaltrials", topic="ulefnersen", observations=observations, gone=gone, **kw
    )


class Clock:
    """A controllable tz-aware clock."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def deliver(store: Store, alert: Alert, at: datetime, ref: str | None = None) -> None:
    """Mark one delivery sent the way a destination's flush does: leased, then marked."""
    assert alert.delivery_id is not None
    lease = store.outbox.take(alert.delivery_id, at=at, ttl=DEFAULT_DELIVERY_LEASE)
    assert lease is not None
    assert store.outbox.mark_sent(alert.delivery_id, at=at, ref=ref, token=lease.token)


def fail_delivery(
    store: Store, alert: Alert, at: datetime, error: str, *, permanent: bool = False
) -> None:
    """Record one failed attempt the way a destination's flush does."""
    assert alert.delivery_id is not None
    lease = store.outbox.take(alert.delivery_id, at=at, ttl=DEFAULT_DELIVERY_LEASE)
    assert lease is not None
    store.outbox.mark_attempt_failed(
        alert.delivery_id, at=at, error=error, permanent=permanent, token=lease.token
    )
