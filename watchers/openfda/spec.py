"""openFDA Drugs@FDA's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.model import Observation
from watchers.openfda.ids import SOURCE
from watchers.openfda.settings import OpenFdaSettings
from watchers.spec import (
    BuildContext,
    FieldDelta,
    Fields,
    Folding,
    Retention,
    Severity,
    SourceKind,
    SourceSpec,
)
from watchers.wording import Wording

__all__ = [
    "SOURCE",
    "SPEC",
    "describe_submission",
    "fda_severity",
]


def fda_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """An approval (AP), new or reached from another status, is what the team waits for."""
    if new and fields.get("submission_status") == "AP":
        return Severity.HIGH
    if any(c.field == "submission_status" and c.after == "AP" for c in changes):
        return Severity.HIGH
    return Severity.NORMAL


def _approved(fields: Fields) -> bool:
    # A supplement's approval (new indication, label change) is not the drug's approval.
    return fields.get("submission_status") == "AP" and fields.get("_submission_type") in (
        None,
        "ORIG",
    )


def describe_submission(record: Observation) -> str:
    """`Drugs@FDA NDA215887:ORIG-1 (AP 2023-04-25)`."""
    status, date = (
        record.fields.get("submission_status"),
        record.fields.get("submission_status_date"),
    )
    return f"Drugs@FDA {record.key} ({status} {date})" if date else f"Drugs@FDA {record.key}"


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.openfda.watcher import OpenFdaWatcher  # the fetch code: loaded when it polls

    return OpenFdaWatcher(context.http, section.base_url, context.secrets.get("openfda_api_key"))


SPEC = SourceSpec(
    id=SOURCE,
    label="openFDA Drugs@FDA",
    kind=SourceKind.REGULATOR_RECORD,
    official_evidence=True,
    folding=Folding.NEVER,
    severity=fda_severity,
    confirms={"approval": _approved},
    describe=describe_submission,
    wording=Wording(
        labels={
            "submission_status": "FDA submission status",
            "submission_status_date": "FDA status date",
        },
        # Drugs@FDA submission status codes (docs/sources.md#openfda); the raw code stays
        # visible in brackets.
        value_words={
            "submission_status": {"AP": "Approved (AP)", "TA": "Tentatively approved (TA)"}
        },
    ),
    # The keyless quota is 1,000 requests a day per IP (docs/sources.md); data lags a week.
    interval=timedelta(hours=6),
    pacing={"api.fda.gov": timedelta(minutes=1) / 240},  # 240 requests a minute
    retention=Retention.STATE,
    max_data_age=None,
    config_section="openfda",
    instances=False,
    settings=OpenFdaSettings,
    build=_build,
    history=None,
)
