"""SEC EDGAR's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.sec_edgar.ids import MIN_INTERVAL, SOURCE, is_placeholder_contact
from watchers.sec_edgar.settings import SecEdgarSettings
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
from watchers.wording import NO_WORDING

__all__ = [
    "MIN_INTERVAL",
    "SOURCE",
    "SPEC",
    "is_placeholder_contact",
    "sec_severity",
]


def sec_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """An 8-K with a press release or other events (items 7.01, 8.01) naming the drug is high."""
    del new, changes  # every filing is found by a topic name, so it names the drug
    return Severity.HIGH if fields.get("_material_8k") is True else Severity.NORMAL


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.sec_edgar.watcher import SecEdgarWatcher  # the fetch code: loaded when it polls

    return SecEdgarWatcher(context.http, context.today, section.contact, base_url=section.base_url)


SPEC = SourceSpec(
    id=SOURCE,
    label="SEC EDGAR filings",
    kind=SourceKind.COMPANY,
    # A filing is the company's own statement, never a regulator's record.
    official_evidence=False,
    folding=Folding.NEVER,
    severity=sec_severity,
    confirms={},
    describe=None,
    wording=NO_WORDING,
    # Topline results are filed as an 8-K the day they are announced: look hourly.
    interval=timedelta(hours=1),
    pacing={"efts.sec.gov": timedelta(seconds=MIN_INTERVAL)},  # SEC: 10 requests/s in total
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="sec_edgar",
    instances=False,
    settings=SecEdgarSettings,
    build=_build,
    history=None,
)
