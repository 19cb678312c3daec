"""How loud a feed, news or paper alert is: (source, item fields) -> the severity shown in it."""

from __future__ import annotations

from typing import Any

import pytest

from state.fields import source_label
from state.poll.diff import diff
from state.types import ChangeKind, Severity
from watchers.model import Observation, SourceResult, freeze_fields

ITEM: dict[str, Any] = {
    "_authority": "FDA",
    "_outlet": "FDA",
    "_summary": None,
    "_claim": None,
    "_regulator": None,
    "_safety": False,
}


def new_item_severity(source: str, **fields: Any) -> Severity:
    """The severity of the alert for a feed/news item seen for the first time."""
    item = Observation(
        source=source,
        key="https://example.org/item",
        topic="ulefnersen",
        title="An item",
        url="https://example.org/item",
        fields=freeze_fields({**ITEM, **fields}),
    )
    [change] = diff({}, SourceResult(source, "ulefnersen", (item,)))
    assert change.kind is ChangeKind.NEW
    return change.severity


FDA_FEED = "feed:FDA press releases"
EMA_FEED = "feed:EMA news"
H, N, L = Severity.HIGH, Severity.NORMAL, Severity.LOW

CASES = {
    "FDA approval": (FDA_FEED, {"_claim": "approval"}, H),
    "FDA rejection": (FDA_FEED, {"_claim": "rejection"}, H),
    "FDA withdrawal": (FDA_FEED, {"_claim": "withdrawal"}, H),
    "FDA safety communication": (FDA_FEED, {"_safety": True}, H),
    "MedWatch item": ("feed:FDA MedWatch safety alerts", {"_safety": True}, H),
    "FDA item without a claim": (FDA_FEED, {}, N),
    "EMA CHMP positive opinion": (EMA_FEED, {"_authority": "EMA", "_claim": "chmp_positive"}, H),
    "EMA CHMP negative opinion": (EMA_FEED, {"_authority": "EMA", "_claim": "chmp_negative"}, H),
    "EMA marketing authorisation": (
        EMA_FEED,
        {"_authority": "EMA", "_claim": "marketing_authorisation"},
        H,
    ),
    "EMA item without a claim": (EMA_FEED, {"_authority": "EMA"}, N),
    "company item": ("feed:Ionis IR", {"_authority": "company", "_outlet": "Ionis IR"}, N),
    "company item claiming approval": (
        "feed:Ionis IR",
        {"_authority": "company", "_claim": "approval"},
        N,
    ),
    "news feed item": ("feed:Fierce Biotech", {"_authority": "news"}, L),
    "news feed claiming approval": (
        "feed:Fierce Biotech",
        {"_authority": "news", "_claim": "approval"},
        L,
    ),
    "google news": ("google_news", {"_authority": "news", "_outlet": "STAT"}, L),
    "google news claiming approval": (
        "google_news",
        {"_authority": "news", "_claim": "approval", "_regulator": "FDA"},
        L,
    ),
    "google news recall": ("google_news", {"_authority": "news", "_safety": True}, L),
    "pubmed paper": ("pubmed", {"_authority": "literature", "_journal": "N Engl J Med"}, L),
}


@pytest.mark.parametrize(("source", "fields", "expected"), CASES.values(), ids=CASES.keys())
def test_severity_of_a_new_item(source: str, fields: dict[str, Any], expected: Severity) -> None:
    assert new_item_severity(source, **fields) is expected


LABELS = {
    "feed by its name": ("feed:FDA press releases", "FDA press releases"),
    "google news": ("google_news", "Google News"),
    "pubmed": ("pubmed", "PubMed"),
}


@pytest.mark.parametrize(("source", "label"), LABELS.values(), ids=LABELS.keys())
def test_source_labels(source: str, label: str) -> None:
    assert source_label(source) == label
