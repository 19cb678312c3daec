"""Claim detection on headlines: what each says a regulator did; near-misses that say nothing."""

from __future__ import annotations

import pytest

from watchers.text.claims import ClaimKind, detect_claim

A = ClaimKind.APPROVAL
MA = ClaimKind.MARKETING_AUTHORISATION
POS = ClaimKind.CHMP_POSITIVE
NEG = ClaimKind.CHMP_NEGATIVE
REJ = ClaimKind.REJECTION
WD = ClaimKind.WITHDRAWAL

# headline -> (kind, regulator)
CLAIMS = {
    "FDA approves": ("FDA Approves Ulefnersen for ALS Caused by FUS Mutations", A, "FDA"),
    "FDA has approved": ("The FDA has approved ulefnersen (Ionis)", A, "FDA"),
    "FDA today approved": ("FDA today approved the first FUS-ALS therapy", A, "FDA"),
    "US FDA grants accelerated approval": (
        "U.S. FDA grants accelerated approval to ulefnersen",
        A,
        "FDA",
    ),
    "gets FDA nod": ("Ionis' ulefnersen gets FDA nod for rare ALS", A, "FDA"),
    "wins FDA approval": ("Ionis wins FDA approval for ulefnersen", A, "FDA"),
    "wins approval, no regulator": ("Ulefnersen wins approval", A, None),
    "shares jump after FDA approves": ("Ionis shares jump after FDA approves ulefnersen", A, "FDA"),
    "approved by the FDA": ("Ulefnersen approved by the FDA", A, "FDA"),
    "in May is a month": ("In May, FDA approved ulefnersen", A, "FDA"),
    "EC grants marketing authorisation": (
        "European Commission grants marketing authorisation for ulefnersen",
        MA,
        "EC",
    ),
    "EC grants US spelling": (
        "EC grants conditional marketing authorization to ulefnersen",
        MA,
        "EC",
    ),
    "receives marketing authorisation": (
        "Ionis receives conditional marketing authorisation for ulefnersen",
        MA,
        "EC",
    ),
    "EU approves": ("EU approves ulefnersen for rare ALS", MA, "EC"),
    "FDA OKs": ("FDA OKs ulefnersen", A, "FDA"),
    "pulls application": ("Ionis pulls ulefnersen application in Europe", WD, "EMA"),
    "approved in the EU": ("Ulefnersen approved in the EU for FUS-ALS", MA, "EC"),
    "wins EU approval": ("Ionis wins EU approval for ulefnersen", MA, "EC"),
    "wins approval in Europe": ("Ulefnersen wins approval in Europe", MA, "EC"),
    "EC decision after CHMP opinion is the decision": (
        "European Commission approves ulefnersen following positive CHMP opinion",
        MA,
        "EC",
    ),
    "positive CHMP opinion": ("Ulefnersen receives positive CHMP opinion", POS, "EMA"),
    "CHMP positive opinion, EC decision expected": (
        "CHMP positive opinion for ulefnersen; EC decision expected in Q3",
        POS,
        "EMA",
    ),
    "CHMP recommends approval": ("CHMP recommends approval of ulefnersen", POS, "EMA"),
    "EMA recommended granting": (
        "EMA has recommended granting a conditional marketing authorisation to ulefnersen",
        POS,
        "EMA",
    ),
    "EMA recommends X for approval": ("EMA recommends ulefnersen for approval", POS, "EMA"),
    "recommended for approval in the EU is an opinion": (
        "First treatment for FUS-ALS recommended for approval in the EU",
        POS,
        "EMA",
    ),
    "negative opinion": ("CHMP adopts negative opinion on ulefnersen", NEG, "EMA"),
    "recommends refusal": ("EMA committee recommends refusal of ulefnersen", NEG, "EMA"),
    "complete response letter": (
        "Ionis receives complete response letter for ulefnersen",
        REJ,
        "FDA",
    ),
    "CRL": ("FDA issues CRL for ulefnersen", REJ, "FDA"),
    "FDA rejects": ("FDA rejects ulefnersen", REJ, "FDA"),
    "FDA declines to approve": ("FDA declines to approve Ionis ALS drug", REJ, "FDA"),
    "shares fall after CRL": ("Shares fall after FDA issues CRL for ulefnersen", REJ, "FDA"),
    "refuse to file": ("FDA issues refuse-to-file letter for ulefnersen NDA", REJ, "FDA"),
    "EC refuses": ("European Commission refuses ulefnersen", REJ, "EC"),
    "withdraws MAA": (
        "Ionis withdraws marketing authorisation application for ulefnersen",
        WD,
        "EMA",
    ),
    "application withdrawn": ("Ulefnersen application withdrawn", WD, None),
    "withdrawal of application EU": (
        "Withdrawal of the marketing authorisation application for ulefnersen in the EU",
        WD,
        "EMA",
    ),
    "market withdrawal US": ("Ionis announces U.S. market withdrawal of ulefnersen", WD, "FDA"),
    "withdrawn from the market": ("Ulefnersen withdrawn from the market", WD, None),
}


@pytest.mark.parametrize(("text", "kind", "regulator"), CLAIMS.values(), ids=CLAIMS.keys())
def test_detects_the_claimed_action(text: str, kind: ClaimKind, regulator: str | None) -> None:
    claim = detect_claim(text)
    assert claim is not None
    assert (claim.kind, claim.regulator) == (kind, regulator)
    assert claim.phrase  # the words that make the claim, for the alert
    assert claim.phrase in " ".join(text.split())


NEAR_MISSES = {
    "seeks approval": "Ionis seeks FDA approval for ulefnersen",
    "files for approval": "Ionis files for approval of ulefnersen in the US",
    "accepted for review": "FDA accepts ulefnersen NDA for review",
    "accepted for priority review": "Ulefnersen NDA accepted for priority review",
    "priority review": "FDA grants priority review to ulefnersen",
    "could be approved": "Ulefnersen could be approved by FDA next year",
    "approval expected": "FDA approval expected for ulefnersen in 2027",
    "on track for approval": "Ionis on track for approval of ulefnersen",
    "could win approval": "Ulefnersen could win approval by year end",
    "set to win": "Ionis set to win FDA nod for ulefnersen",
    "to win": "Ionis to win FDA nod, analysts say",
    "question": "Will ulefnersen get the FDA nod?",
    "has not approved": "FDA has not approved ulefnersen",
    "no CRL": "No CRL: Ionis avoids complete response letter",
    "CHMP opinion expected": "Positive opinion expected from CHMP in July",
    "awaiting CHMP opinion": "Ionis awaiting positive CHMP opinion",
    "MAA validated": "EMA validates marketing authorisation application for ulefnersen",
    "MAA submitted": "Ionis submits marketing authorisation application to EMA",
    "IND clearance is not approval": "Ionis wins approval to start Phase 3 trial",
    "FDA panel is not FDA": "FDA advisory committee votes in favour of ulefnersen",
    "FDA-approved adjective": "Ulefnersen joins FDA-approved tofersen in ALS toolbox",
    "orphan designation": "FDA grants orphan drug designation to ION363",
    "breakthrough designation": "Ulefnersen receives Breakthrough Therapy designation",
    "topline results": "Ionis announces positive topline results from Phase 3 FUSION study",
    "patients withdrawn from trial": "Two patients withdrawn from FUSION trial",
    "withdraws guidance": "Ionis withdraws 2027 revenue guidance",
    "us is a pronoun": "Tell us: was ulefnersen approved by us readers' vote",
    "fusion protein": "Fusion protein approach approved for study funding",
    "FDA advisers recommend": "FDA advisers recommend approval of ulefnersen",
    "shareholder approval": "Ionis wins shareholder approval for merger",
    "competition approval": "European Commission approves acquisition of Ionis",
    "IND approval": "Ionis receives IND approval for ION363",
    "EC decision expected": "EC approval for ulefnersen expected in Q4",
    "pending EC decision": "European Commission decision on ulefnersen expected",
    "PDUFA date": "Ionis stock rises as FDA sets PDUFA date for ulefnersen",
    "another regulator": "Japan's MHLW approves tofersen",
    "empty": "",
}


@pytest.mark.parametrize("text", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_near_misses_claim_nothing(text: str) -> None:
    assert detect_claim(text) is None


def test_none_text_claims_nothing() -> None:
    assert detect_claim(None) is None


def test_claim_values_are_the_field_strings() -> None:
    assert [kind.value for kind in ClaimKind] == [
        "approval",
        "marketing_authorisation",
        "chmp_positive",
        "chmp_negative",
        "rejection",
        "withdrawal",
    ]
