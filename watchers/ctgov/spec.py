"""ClinicalTrials.gov's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.ctgov.ids import HISTORY_URL, SOURCE
from watchers.ctgov.protocol import HIGH_IF_CHANGED, HIGH_IF_REMOVED, removed_names
from watchers.ctgov.settings import ClinicalTrialsSettings
from watchers.ctgov.wording import WORDING
from watchers.spec import (
    BuildContext,
    FieldDelta,
    Fields,
    Folding,
    RecordHistory,
    Retention,
    Severity,
    SourceKind,
    SourceSpec,
)
from watchers.text.trial_ids import nct_id

__all__ = [
    "HISTORY_URL",
    "SOURCE",
    "SPEC",
    "trial_severity",
]


# Trial statuses that end or halt a study: a clinical team must hear of these first.
_HIGH_TRIAL_STATUSES = frozenset({"SUSPENDED", "TERMINATED", "WITHDRAWN", "COMPLETED"})


def trial_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """A study that ends or halts, or posts results, is high; so is a changed primary outcome
    measure, masking or allocation, or an arm or intervention removed; any other change normal."""
    if new and fields.get("overall_status") in _HIGH_TRIAL_STATUSES:
        return Severity.HIGH
    for change in changes:
        if change.field == "overall_status" and change.after in _HIGH_TRIAL_STATUSES:
            return Severity.HIGH
        if change.field in ("has_results", "results_first_posted") and change.after:
            return Severity.HIGH
        if change.field in HIGH_IF_CHANGED:
            return Severity.HIGH
        if change.field in HIGH_IF_REMOVED and removed_names(change.before, change.after):
            return Severity.HIGH
    return Severity.NORMAL


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.ctgov.watcher import ClinicalTrialsWatcher  # the fetch code: loaded when it polls

    return ClinicalTrialsWatcher(
        context.http, base_url=section.base_url, page_size=section.page_size
    )


SPEC = SourceSpec(
    id=SOURCE,
    label="ClinicalTrials.gov",
    kind=SourceKind.TRIAL_REGISTRY,
    # A registry record is official, but it never confirms a regulator's action.
    official_evidence=False,
    folding=Folding.NEVER,
    severity=trial_severity,
    confirms={},
    describe=None,
    wording=WORDING,
    interval=timedelta(hours=1),
    pacing={"clinicaltrials.gov": timedelta(seconds=1)},  # about one request a second
    retention=Retention.STATE,
    # Refreshed daily Monday to Friday (docs/sources.md): over a weekend ~3 days is normal.
    max_data_age=timedelta(days=3),
    config_section="clinicaltrials",
    instances=False,
    settings=ClinicalTrialsSettings,
    build=_build,
    history=RecordHistory(default_url=HISTORY_URL, record_id=nct_id),
)
