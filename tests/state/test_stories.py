"""Same story, several outlets: table-driven, with the near-misses that must stay apart."""

from __future__ import annotations

import pytest

from state.poll.enrich import is_news, same_story

NAMES = ("ulefnersen", "jacifusen", "ION363", "ION-363", "FUS-ALS")

CASES = [
    pytest.param(
        "Ionis' ulefnersen wins FDA approval for FUS-ALS",
        "FDA approves Ionis's ulefnersen for rare FUS-ALS",
        True,
        id="approval-retold",
    ),
    pytest.param(
        "FDA approves ulefnersen, first therapy for FUS-ALS",
        "FDA Approves Ulefnersen as First Treatment for FUS-ALS Patients",
        True,
        id="first-therapy-retold",
    ),
    pytest.param(
        "Ionis to present ulefnersen data at ALS meeting",
        "Ionis ulefnersen ALS meeting presentation set",
        True,
        id="meeting-retold",
    ),
    pytest.param(
        "Ulefnersen FUS-ALS data presented at ENCALS",
        "Ulefnersen FUS-ALS FDA approval",
        False,
        id="only-topic-words-shared",
    ),
    pytest.param(
        "FDA approves ulefnersen for FUS-ALS",
        "FDA rejects ulefnersen for FUS-ALS, issues complete response letter",
        False,
        id="approval-vs-rejection",
    ),
    pytest.param(
        "FDA approves ulefnersen for FUS-ALS",
        "EMA's CHMP recommends ulefnersen for FUS-ALS",
        False,
        id="fda-vs-chmp",
    ),
    pytest.param(
        "Ionis reports positive topline results from Phase 3 FUSION study of ulefnersen",
        "FDA accepts Ionis ulefnersen application for priority review",
        False,
        id="results-vs-filing",
    ),
]


@pytest.mark.parametrize(("a", "b", "expected"), CASES)
def test_same_story(a: str, b: str, expected: bool) -> None:
    assert same_story(a, b, ignore=NAMES) is expected
    assert same_story(b, a, ignore=NAMES) is expected


@pytest.mark.parametrize(
    ("source", "authority", "expected"),
    [
        ("google_news", "news", True),
        ("feed:Endpoints", "news", True),
        ("feed:Ionis IR", "company", True),
        ("feed:FDA press releases", "FDA", False),
        ("feed:EMA news", "EMA", False),
        ("openfda", None, False),
        ("pubmed", "literature", False),
    ],
)
def test_which_items_are_retellable_news(source: str, authority: str, expected: bool) -> None:
    assert is_news(source, authority) is expected
