"""medRxiv's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.medrxiv.ids import SOURCE
from watchers.medrxiv.settings import MedrxivSettings
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
    "SOURCE",
    "SPEC",
    "preprint_severity",
]


def preprint_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """A new preprint is low like papers; a new version of a known one is normal."""
    del fields
    if not new and any(change.field == "version" for change in changes):
        return Severity.NORMAL
    return Severity.LOW


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.medrxiv.watcher import MedrxivWatcher  # the fetch code: loaded when it polls

    return MedrxivWatcher(
        context.http,
        context.today,
        base_url=section.base_url,
        cache_seconds=context.shared_read_seconds,
        clock=context.monotonic,
    )


SPEC = SourceSpec(
    id=SOURCE,
    label="medRxiv",
    kind=SourceKind.PAPER,
    official_evidence=False,
    # The same preprint found twice is one alert; two preprints with similar titles are two.
    folding=Folding.SAME_LINK,
    severity=preprint_severity,
    confirms={},
    describe=None,
    wording=NO_WORDING,
    # Postings appear in daily batches; every poll reads the whole window (no search).
    interval=timedelta(hours=6),
    pacing={"api.biorxiv.org": timedelta(seconds=1)},  # none documented: 1 request/s
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="medrxiv",
    instances=False,
    settings=MedrxivSettings,
    build=_build,
    history=None,
)
