"""EU CTIS's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.ctis.ids import HIGH_STATUS_CODES, SOURCE, STATUS_WORDS
from watchers.ctis.settings import CtisSettings
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
    "HIGH_STATUS_CODES",
    "SOURCE",
    "SPEC",
    "STATUS_WORDS",
    "ctis_severity",
]


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
    from watchers.ctis.watcher import CtisWatcher  # the fetch code: loaded when it polls

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
    wording=Wording(calendar=(("start_date", "Start (EU)"), ("end_date", "End (EU)"))),
    # Trial records change on the sponsor's schedule; an unchanged poll costs its searches only.
    interval=timedelta(hours=3),
    pacing={"euclinicaltrials.eu": timedelta(seconds=1)},  # limits undocumented: be gentle
    retention=Retention.STATE,
    max_data_age=None,
    config_section="ctis",
    instances=False,
    settings=CtisSettings,
    build=_build,
    history=None,
)
