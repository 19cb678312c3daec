"""Claim check: which official record confirms which claimed action, and the label it gets."""

from __future__ import annotations

from typing import Any

import pytest

from state.poll.enrich import UNCONFIRMED, claim_label, confirming_record
from watchers.model import Observation, freeze_fields


def record(source: str, key: str, title: str, **fields: Any) -> Observation:
    return Observation(
        source=source,
        key=key,
        topic="ulefnersen",
        title=title,
        url=f"https://example.org/{key}",
        fields=freeze_fields(fields),
    )


FDA_AP = record(
    "openfda",
    "NDA299999:ORIG-1",
    "ULEFNERSEN NDA299999 ORIG-1",
    submission_status="AP",
    submission_status_date="2027-03-01",
)
FDA_TA = record("openfda", "NDA299999:ORIG-1", "x", submission_status="TA")
FDA_SUPPL_AP = record(
    "openfda", "NDA215887:SUPPL-5", "x", submission_status="AP", _submission_type="SUPPL"
)
EMA_OPINION = record(
    "ema_medicines",
    "EMEA/H/C/009999",
    "Ulefnersen Ionis (ulefnersen)",
    medicine_status="Opinion",
    opinion_adopted_date="2027-02-20",
    european_commission_decision_date=None,
)
EMA_AUTHORISED = record(
    "ema_medicines",
    "EMEA/H/C/009999",
    "Ulefnersen Ionis (ulefnersen)",
    medicine_status="Authorised",
    opinion_adopted_date="2027-02-20",
    european_commission_decision_date="2027-04-22",
)
FDA_PRESS = record(
    "feed:FDA press releases",
    "fda-1",
    "FDA approves first treatment for FUS-ALS",
    _authority="FDA",
    _claim="approval",
)
NEWS_ITEM = record(
    "google_news", "g-1", "FDA approves ulefnersen", _authority="news", _claim="approval"
)

CASES = [
    pytest.param("approval", [FDA_AP], FDA_AP, id="fda-approval-by-drugsfda-AP"),
    pytest.param("approval", [FDA_TA], None, id="tentative-is-not-approval"),
    pytest.param("approval", [FDA_SUPPL_AP], None, id="supplement-approval-is-not-the-drugs"),
    pytest.param("approval", [FDA_PRESS], FDA_PRESS, id="approval-by-fda-press-release"),
    pytest.param("approval", [NEWS_ITEM], None, id="news-never-confirms-news"),
    pytest.param("approval", [], None, id="nothing-in-state"),
    pytest.param("marketing_authorisation", [EMA_OPINION], None, id="opinion-is-not-ec-decision"),
    pytest.param("marketing_authorisation", [EMA_AUTHORISED], EMA_AUTHORISED, id="ec-decision"),
    pytest.param("chmp_positive", [EMA_OPINION], EMA_OPINION, id="chmp-opinion"),
    pytest.param("rejection", [FDA_AP], None, id="approval-does-not-confirm-rejection"),
]


@pytest.mark.parametrize(("claim", "records", "expected"), CASES)
def test_confirming_record(
    claim: str, records: list[Observation], expected: Observation | None
) -> None:
    assert confirming_record(claim, records) == expected


def test_labels_say_what_confirmed_it_and_keep_chmp_apart_from_ec() -> None:
    assert claim_label("approval", FDA_AP) == (
        "confirmed by Drugs@FDA NDA299999:ORIG-1 (AP 2027-03-01)"
    )
    assert claim_label("approval", None) == UNCONFIRMED
    assert claim_label("chmp_positive", EMA_OPINION) == (
        "confirmed by EMA medicines data: Ulefnersen Ionis (ulefnersen) "
        "(Opinion; CHMP opinion 2027-02-20) (a CHMP opinion, not a European Commission decision)"
    )
    assert claim_label("marketing_authorisation", None).endswith("(European Commission decision)")
    assert claim_label("approval", FDA_PRESS) == (
        "confirmed by FDA press releases: “FDA approves first treatment for FUS-ALS”"
    )
