"""PubMed's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.pubmed.ids import SOURCE
from watchers.pubmed.settings import PubMedSettings
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
    from watchers.pubmed.watcher import PubMedWatcher  # the fetch code: loaded when it polls

    return PubMedWatcher(context.http, section.base_url, context.secrets.get("ncbi_api_key"))


SPEC = SourceSpec(
    id=SOURCE,
    label="PubMed",
    kind=SourceKind.PAPER,
    official_evidence=False,
    # The same paper found twice is one alert; two papers with similar titles are two papers.
    folding=Folding.SAME_LINK,
    # Low: a claim in it is only a claim until an official record backs it.
    severity=fixed_severity(Severity.LOW),
    confirms={},
    describe=None,
    wording=NO_WORDING,
    # PubMed indexes new papers daily; hourly keeps far inside NCBI's limits.
    interval=timedelta(hours=1),
    pacing={"eutils.ncbi.nlm.nih.gov": timedelta(seconds=1) / 3},  # 3 requests a second
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="pubmed",
    instances=False,
    settings=PubMedSettings,
    build=_build,
    history=None,
)
