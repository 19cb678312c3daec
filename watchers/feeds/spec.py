"""RSS feed's spec: the traits `state/` and `bot/` ask for, without its fetch code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from watchers.base import Watcher
from watchers.feeds.settings import FeedSettings
from watchers.spec import (
    AUTHORITY_FIELD,
    BuildContext,
    ClaimRule,
    FieldDelta,
    Fields,
    Folding,
    Retention,
    Severity,
    SourceKind,
    SourceSpec,
)
from watchers.text.feed_items import OFFICIAL
from watchers.text.match import IN_TEXT
from watchers.wording import NO_WORDING

__all__ = [
    "OFFICIAL",
    "SPEC",
    "feed_severity",
]


# Claims (watchers.text.claims.ClaimKind values) that make an agency's own feed item loud.
_REGULATORY_CLAIMS = frozenset(
    {"approval", "marketing_authorisation", "rejection", "chmp_positive", "chmp_negative"}
    | {"withdrawal"}
)


def feed_severity(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
    """FDA/EMA items announcing a regulatory action or a safety communication are high;
    other agency and company items normal; news feeds low (feed items alert once, as new)."""
    authority = fields.get(AUTHORITY_FIELD)
    if fields.get("_matched_in") == IN_TEXT and authority not in OFFICIAL:
        # Named only in the item's text: never high unless a regulator published it.
        return Severity.NORMAL if authority == "company" else Severity.LOW
    if authority in OFFICIAL:
        if fields.get("_claim") in _REGULATORY_CLAIMS or fields.get("_safety") is True:
            return Severity.HIGH
        return Severity.NORMAL
    return Severity.NORMAL if authority == "company" else Severity.LOW


def _claims(*claims: str) -> ClaimRule:
    return lambda fields: fields.get("_claim") in claims


def _build(entry: Any, context: BuildContext) -> Watcher:
    from watchers.feeds.watcher import FeedWatcher  # the fetch code: loaded when it polls

    return FeedWatcher(
        context.http,
        entry.name,
        entry.url,
        entry.authority,
        cache_seconds=context.shared_read_seconds,
        clock=context.monotonic,
    )


# A feed's kind follows its `authority`: the agencies' own feeds are official evidence (an
# item announcing an approval backs a headline claiming it); company and news feeds retell.
FEED_SPEC = SourceSpec(
    id="feed",
    label="RSS feed",  # each `feed:<name>` source is labelled by its name
    kind=SourceKind.NEWS,
    official_evidence=False,
    folding=Folding.SAME_STORY,
    severity=feed_severity,
    confirms={},
    describe=None,
    wording=NO_WORDING,
    interval=timedelta(minutes=30),
    pacing={},  # hosts vary by feed: `[http].min_interval` applies
    retention=Retention.EVENT,
    max_data_age=None,
    config_section="feeds",
    instances=True,
    settings=FeedSettings,
    build=_build,
    history=None,
)
_REGULATOR_FEED = FEED_SPEC.variant(
    kind=SourceKind.REGULATOR_FEED,
    official_evidence=True,
    folding=Folding.SAME_LINK,  # an agency's items are not retellings of each other
    confirms={
        "approval": _claims("approval", "marketing_authorisation"),
        "marketing_authorisation": _claims("marketing_authorisation"),
        "chmp_positive": _claims("chmp_positive"),
        "chmp_negative": _claims("chmp_negative"),
        "rejection": _claims("rejection"),
        "withdrawal": _claims("withdrawal"),
    },
)
SPEC = replace(
    FEED_SPEC,
    by_authority={
        "FDA": _REGULATOR_FEED,
        "EMA": _REGULATOR_FEED,
        "company": FEED_SPEC.variant(kind=SourceKind.COMPANY),
        "news": FEED_SPEC.variant(),
    },
)
