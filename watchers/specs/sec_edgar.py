"""SEC EDGAR's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

import re
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
    "MIN_INTERVAL",
    "SOURCE",
    "SPEC",
    "is_placeholder_contact",
    "sec_severity",
]

SOURCE = "sec_edgar"
# SEC allows 10 requests per second in total; a little under it leaves room for clock jitter.
MIN_INTERVAL = 0.125
# An address at a reserved example domain (RFC 2606) reaches nobody: SEC would refuse every
# request it signs. The one rule, for the config check and the watcher alike.
_PLACEHOLDER = re.compile(r"@(?:[\w-]+\.)*example(?:\.(?:com|org|net))?(?![\w.-])", re.IGNORECASE)


def is_placeholder_contact(contact: str) -> bool:
    """Is this the example config's contact (an e-mail at an RFC 2606 example domain)?"""
    return _PLACEHOLDER.search(contact) is not None


def sec_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """An 8-K with a press release or other events (items 7.01, 8.01) naming the drug is high."""
    del new, changes  # every filing is found by a topic name, so it names the drug
    return Severity.HIGH if fields.get("_material_8k") is True else Severity.NORMAL


def _build(section: Any, context: BuildContext) -> Watcher:
    from watchers.sec_edgar import SecEdgarWatcher  # the fetch code: loaded when it polls

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
    # Topline results are filed as an 8-K the day they are announced: look hourly.
    interval=timedelta(hours=1),
    pacing={"efts.sec.gov": timedelta(seconds=MIN_INTERVAL)},  # SEC: 10 requests/s in total
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="sec_edgar",
    instances=False,
    build=_build,
    history=None,
)
