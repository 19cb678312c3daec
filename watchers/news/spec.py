"""Google News's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.news.ids import SOURCE
from watchers.news.settings import GoogleNewsSettings
from watchers.spec import (
    BuildContext,
    Folding,
    Retention,
    Severity,
    SourceKind,
    SourceSpec,
    fixed_severity,
)
from watchers.wording import NO_WORDING

__all__ = [
    "SOURCE",
    "SPEC",
]


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.news.watcher import GoogleNewsWatcher  # the fetch code: loaded when it polls

    return GoogleNewsWatcher(context.http, section.base_url)


SPEC = SourceSpec(
    id=SOURCE,
    label="Google News",
    kind=SourceKind.NEWS,
    official_evidence=False,
    folding=Folding.SAME_STORY,
    # Low: a claim in it is only a claim until an official record backs it.
    severity=fixed_severity(Severity.LOW),
    confirms={},
    describe=None,
    wording=NO_WORDING,
    interval=timedelta(minutes=30),
    pacing={"news.google.com": timedelta(seconds=1)},
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="google_news",
    instances=False,
    settings=GoogleNewsSettings,
    build=_build,
    history=None,
)
