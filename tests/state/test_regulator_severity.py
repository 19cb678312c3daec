"""Regulator records (openFDA, EMA): (stored, polled) -> the alert a person gets, and how loud."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from state.fields import format_value
from state.poll.diff import diff
from state.types import ChangeKind, Severity, StoredObservation
from tests.factories import T0
from watchers.model import Observation, SourceResult, freeze_fields

FDA_FIELDS: dict[str, Any] = {
    "submission_status": "AP",
    "submission_status_date": "2023-04-25",
    "_application": "NDA215887",
    "_brand_names": ("QALSODY",),
    "_generic_names": ("TOFERSEN",),
    "_sponsor": "BIOGEN INC",
    "_submission_type": "ORIG",
    "_review_priority": "PRIORITY",
}
EMA_FIELDS: dict[str, Any] = {
    "medicine_status": None,
    "opinion_status": None,
    "opinion_adopted_date": None,
    "european_commission_decision_date": None,
    "marketing_authorisation_date": None,
    "_inn": "ulefnersen",
    "_holder": "Example Holder B.V.",
}


def fda(key: str = "NDA215887:ORIG-1", **changes: Any) -> Observation:
    return Observation(
        source="openfda",
        key=key,
        topic="ulefnersen",
        title=f"QALSODY (tofersen) {key}",
        url="https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm",
        fields=freeze_fields({**FDA_FIELDS, **changes}),
        matched_alias="tofersen",
    )


def ema(key: str = "EMEA/H/C/006999", **changes: Any) -> Observation:
    return Observation(
        source="ema_medicines",
        key=key,
        topic="ulefnersen",
        title="Ulefnersen Example (ulefnersen)",
        url="https://www.ema.europa.eu/en/medicines/human/EPAR/ulefnersen-example",
        fields=freeze_fields({**EMA_FIELDS, **changes}),
        matched_alias="ulefnersen",
    )


def stored(obs: Observation) -> StoredObservation:
    return StoredObservation(observation=obs, first_seen=T0, last_seen=T0, last_changed=T0)


@dataclass
class Case:
    id: str
    before: Observation | None
    after: Observation
    expected: tuple[ChangeKind, Severity, list[str]] | None  # kind, severity, texts; None: quiet


CASES = [
    Case("fda: new approved submission is high", None, fda(), (ChangeKind.NEW, Severity.HIGH, [])),
    Case(
        "fda: new tentative approval is normal",
        None,
        fda(submission_status="TA"),
        (ChangeKind.NEW, Severity.NORMAL, []),
    ),
    Case(
        "fda: tentative to approved is high",
        fda(submission_status="TA"),
        fda(),
        (
            ChangeKind.UPDATED,
            Severity.HIGH,
            ["FDA submission status: Tentatively approved (TA) → Approved (AP)"],
        ),
    ),
    Case(
        "fda: approval date corrected is normal",
        fda(),
        fda(submission_status_date="2023-04-27"),
        (ChangeKind.UPDATED, Severity.NORMAL, ["FDA status date: 2023-04-25 → 2023-04-27"]),
    ),
    Case(
        "fda: unknown code reads raw",
        fda(submission_status="TA"),
        fda(submission_status="XX"),
        (
            ChangeKind.UPDATED,
            Severity.NORMAL,
            ["FDA submission status: Tentatively approved (TA) → XX"],
        ),
    ),
    Case("fda: only the sponsor's name moved", fda(), fda(_sponsor="Biogen Inc."), None),
    Case("ema: any new record is high", None, ema(), (ChangeKind.NEW, Severity.HIGH, [])),
    Case(
        "ema: medicine status change is high",
        ema(medicine_status="Authorised"),
        ema(medicine_status="Withdrawn"),
        (ChangeKind.UPDATED, Severity.HIGH, ["EMA medicine status: Authorised → Withdrawn"]),
    ),
    Case(
        "ema: CHMP opinion adopted is high",
        ema(),
        ema(opinion_status="Positive", opinion_adopted_date="2026-07-23"),
        (
            ChangeKind.UPDATED,
            Severity.HIGH,
            ["CHMP opinion adopted: (none) → 2026-07-23", "CHMP opinion: (none) → Positive"],
        ),
    ),
    Case(
        "ema: European Commission decision is high",
        ema(opinion_adopted_date="2026-07-23"),
        ema(
            opinion_adopted_date="2026-07-23",
            european_commission_decision_date="2026-09-20",
            marketing_authorisation_date="2026-09-20",
            medicine_status="Authorised",
        ),
        (
            ChangeKind.UPDATED,
            Severity.HIGH,
            [
                "European Commission decision: (none) → 2026-09-20",
                "Marketing authorisation: (none) → 2026-09-20",
                "EMA medicine status: (none) → Authorised",
            ],
        ),
    ),
    Case(
        "ema: decision date corrected is normal",
        ema(european_commission_decision_date="2026-09-20"),
        ema(european_commission_decision_date="2026-09-21"),
        (
            ChangeKind.UPDATED,
            Severity.NORMAL,
            ["European Commission decision: 2026-09-20 → 2026-09-21"],
        ),
    ),
    Case("ema: only the holder moved", ema(), ema(_holder="Other Holder B.V."), None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_regulator_changes(case: Case) -> None:
    previous = {case.before.key: stored(case.before)} if case.before else {}
    result = SourceResult(case.after.source, "ulefnersen", (case.after,))
    changes = diff(previous, result)
    if case.expected is None:
        assert changes == []
        return
    [change] = changes
    kind, severity, texts = case.expected
    assert (change.kind, change.severity) == (kind, severity)
    assert sorted(fc.text for fc in change.field_changes) == sorted(texts)


WORDING = {
    "approved": ("submission_status", "AP", "Approved (AP)"),
    "tentatively approved": ("submission_status", "TA", "Tentatively approved (TA)"),
    "other code stays raw": ("submission_status", "WD", "WD"),
    "same code in another field is untouched": ("opinion_status", "AP", "AP"),
}


@pytest.mark.parametrize(("field", "value", "text"), WORDING.values(), ids=WORDING.keys())
def test_submission_status_wording(field: str, value: str, text: str) -> None:
    assert format_value(field, value) == text
