"""EMA medicines data's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.ema.ids import SOURCE
from watchers.ema.settings import EmaMedicinesSettings
from watchers.model import Observation
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
    "describe_medicine",
    "ema_severity",
]


# EMA milestones: a CHMP opinion, the Commission's decision, the marketing authorisation.
_MILESTONE_DATES = frozenset(
    {"opinion_adopted_date", "european_commission_decision_date", "marketing_authorisation_date"}
)


def ema_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """A new EMA record, a status change, an opinion or a first milestone date is high."""
    del fields  # a new EMA record is high whatever it says
    if new:
        return Severity.HIGH
    for change in changes:
        if change.field == "medicine_status":
            return Severity.HIGH
        # A CHMP opinion, positive or negative, is a regulator's approval or rejection.
        if change.field == "opinion_status" and change.after:
            return Severity.HIGH
        if change.field in _MILESTONE_DATES and not change.before and change.after:
            return Severity.HIGH
    return Severity.NORMAL


def _ec_decided(fields: Fields) -> bool:
    return bool(fields.get("european_commission_decision_date")) or (
        fields.get("medicine_status") == "Authorised"
    )


def _chmp_positive(fields: Fields) -> bool:
    if fields.get("opinion_status"):
        return fields.get("opinion_status") == "Positive"
    return bool(fields.get("opinion_adopted_date")) and fields.get("medicine_status") != "Refused"


def _chmp_negative(fields: Fields) -> bool:
    return fields.get("medicine_status") == "Refused" or fields.get("opinion_status") == "Negative"


def describe_medicine(record: Observation) -> str:
    """`EMA medicines data: Qalsody (Authorised; EC decision 2024-05-29)`."""
    decision = record.fields.get("european_commission_decision_date")
    opinion = record.fields.get("opinion_adopted_date")
    when = f"EC decision {decision}" if decision else f"CHMP opinion {opinion}" if opinion else ""
    status = record.fields.get("medicine_status") or ""
    extra = "; ".join(p for p in (str(status), when) if p)
    return f"EMA medicines data: {record.title}" + (f" ({extra})" if extra else "")


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.ema.watcher import EmaMedicinesWatcher  # the fetch code: loaded when it polls

    return EmaMedicinesWatcher(
        context.http,
        section.url,
        cache_seconds=context.shared_read_seconds,
        clock=context.monotonic,
    )


SPEC = SourceSpec(
    id=SOURCE,
    label="EMA medicines data",
    kind=SourceKind.REGULATOR_RECORD,
    official_evidence=True,
    folding=Folding.NEVER,
    severity=ema_severity,
    confirms={
        "approval": _ec_decided,
        "marketing_authorisation": _ec_decided,
        "chmp_positive": _chmp_positive,
        "chmp_negative": _chmp_negative,
        "withdrawal": lambda fields: fields.get("medicine_status") == "Withdrawn",
    },
    describe=describe_medicine,
    wording=Wording(
        labels={
            "medicine_status": "EMA medicine status",
            "opinion_status": "CHMP opinion",
            "opinion_adopted_date": "CHMP opinion adopted",
            "european_commission_decision_date": "European Commission decision",
            "marketing_authorisation_date": "Marketing authorisation",
        }
    ),
    # EMA regenerates the report at most twice a day (docs/sources.md).
    interval=timedelta(hours=6),
    pacing={"www.ema.europa.eu": timedelta(seconds=1)},
    retention=Retention.STATE,
    max_data_age=None,
    config_section="ema_medicines",
    instances=False,
    settings=EmaMedicinesSettings,
    build=_build,
    history=None,
)
