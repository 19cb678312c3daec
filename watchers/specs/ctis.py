"""EU CTIS's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
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

__all__ = [
    "HIGH_STATUS_CODES",
    "SOURCE",
    "SPEC",
    "STATUS_WORDS",
    "ctis_severity",
]

SOURCE = "ctis"
# `ctPublicStatusCode` in words (ctrdata's table; the recorded record agrees that 1 is
# "Under evaluation").
STATUS_WORDS = {
    1: "Under evaluation",
    2: "Authorised, recruitment pending",
    3: "Authorised, recruiting",
    4: "Ongoing, recruiting",
    5: "Ongoing, recruitment ended",
    6: "Temporarily halted",
    7: "Suspended",
    8: "Ended",
    9: "Expired",
    10: "Revoked",
    11: "Not authorised",
    12: "Cancelled",
}
# Halted, suspended, revoked, not authorised: a clinical team must hear of these first.
HIGH_STATUS_CODES = frozenset({6, 7, 10, 11})


# Words of the HIGH status codes, as `overall_status` holds them.
_HIGH_STATUSES = frozenset(STATUS_WORDS[code] for code in HIGH_STATUS_CODES)
_HIGH_FLAGS = ("early_termination", "temporary_halt", "results_posted")


def ctis_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """Halted, suspended, ended early, revoked, not authorised, or results posted: high."""
    if new:
        if fields.get("overall_status") in _HIGH_STATUSES:
            return Severity.HIGH
        if fields.get("early_termination") is True or fields.get("temporary_halt") is True:
            return Severity.HIGH
        return Severity.NORMAL
    for change in changes:
        if change.field == "overall_status" and change.after in _HIGH_STATUSES:
            return Severity.HIGH
        if change.field in _HIGH_FLAGS and change.after is True:
            return Severity.HIGH
    return Severity.NORMAL


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.ctis import CtisWatcher  # the fetch code: loaded when it polls

    return CtisWatcher(context.http, base_url=section.base_url)


SPEC = SourceSpec(
    id=SOURCE,
    label="EU CTIS",
    kind=SourceKind.TRIAL_REGISTRY,
    # A registry record is official, but it never confirms a regulator's action.
    official_evidence=False,
    folding=Folding.NEVER,
    severity=ctis_severity,
    confirms={},
    describe=None,
    # Trial records change on the sponsor's schedule; an unchanged poll costs its searches only.
    interval=timedelta(hours=3),
    pacing={"euclinicaltrials.eu": timedelta(seconds=1)},  # limits undocumented: be gentle
    retention=Retention.STATE,
    max_data_age=None,
    config_section="ctis",
    instances=False,
    build=_build,
    history=None,
)
