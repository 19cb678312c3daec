"""Federal Register's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.federal_register.ids import SOURCE
from watchers.federal_register.settings import FederalRegisterSettings
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
    "federal_register_severity",
]


def federal_register_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """An FDA advisory committee meeting about the drug is high; any other document normal."""
    del changes
    if new and fields.get("_meeting_notice") is True and fields.get("_about_drug") is True:
        return Severity.HIGH
    return Severity.NORMAL


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.federal_register.watcher import (
        FederalRegisterWatcher,  # the fetch code: loaded when it polls
    )

    return FederalRegisterWatcher(context.http, context.today, base_url=section.base_url)


SPEC = SourceSpec(
    id=SOURCE,
    label="Federal Register",
    kind=SourceKind.REGULATOR_FEED,
    # A meeting notice is evidence that a meeting is scheduled, never of an approval: the
    # Federal Register confirms no claimed regulatory action.
    official_evidence=False,
    folding=Folding.NEVER,
    severity=federal_register_severity,
    confirms={},
    describe=None,
    wording=Wording(calendar=(("meeting_date", "FDA advisory committee meeting"),)),
    # Published once a working day; advisory committee notices come 15 days ahead or more.
    interval=timedelta(hours=6),
    pacing={"www.federalregister.gov": timedelta(seconds=1)},  # no published limit
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="federal_register",
    instances=False,
    settings=FederalRegisterSettings,
    build=_build,
    history=None,
)
