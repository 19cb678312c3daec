"""Claim detection: does a headline say a regulator acted (approved, refused, gave an opinion)?

Detection only: whether the claim is true is checked later against official records. Rules
are phrase patterns; a match is dropped when its clause hedges it ("seeks", "could",
"expected", "on track for", "not", a question) rather than reporting it.
A CHMP opinion is EMA's committee recommending; the European Commission's decision is the
marketing authorisation itself: they are different kinds, never merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from watchers.text.words import collapse

__all__ = ["Claim", "ClaimKind", "detect_claim"]


class ClaimKind(StrEnum):
    """The regulatory action a headline claims; the value is what `_claim` fields hold."""

    APPROVAL = "approval"
    MARKETING_AUTHORISATION = "marketing_authorisation"
    CHMP_POSITIVE = "chmp_positive"
    CHMP_NEGATIVE = "chmp_negative"
    REJECTION = "rejection"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class Claim:
    """A claimed action, the regulator it names (`FDA`, `EMA`, `EC` or None) and the words."""

    kind: ClaimKind
    regulator: str | None
    phrase: str


# Acronyms match in capitals only, so "us" (the pronoun) is never "US" and "ec" never "EC".
_FDA = r"(?:(?-i:FDA)|Food\s+and\s+Drug\s+Administration)"
_EC = r"(?:European\s+Commission|(?-i:EC)\b)"
_EMA = r"(?:(?-i:CHMP|EMA)|European\s+Medicines\s+Agency)"
_EU = r"(?:(?-i:EU)|European\s+Union|Europe)"
_MA = r"marketing\s+authori[sz]ations?"
_WIN = (
    r"(?:gets?|got|wins?|won|receives?|received|secures?|secured|earns?|earned|grabs?|"
    r"lands?|landed|nabs?|nabbed|scores?|scored|snags?|obtains?|obtained)"
)
_NOD = r"(?:nod|approvals?|OK|green\s+light|go-ahead)"
_FEW = r"(?:[\w.'\u2019-]+\s+){0,3}?"  # up to three words in between, as few as possible

_RULES: tuple[tuple[ClaimKind, str | None, str], ...] = (
    # European Commission decisions: the marketing authorisation itself.
    (
        ClaimKind.MARKETING_AUTHORISATION,
        "EC",
        rf"\b{_EC}\s+{_FEW}(?:grants?|granted|approves|"
        r"approved|authori[sz]es|authori[sz]ed)\b",
    ),
    (
        ClaimKind.MARKETING_AUTHORISATION,
        "EC",
        rf"\b(?:grants?|granted|{_WIN})\s+{_FEW}{_MA}\b"
        r"(?!\s+applications?)",
    ),
    (ClaimKind.MARKETING_AUTHORISATION, "EC", rf"\b{_WIN}\s+{_FEW}(?:{_EU}|{_EC})\s+{_NOD}\b"),
    (
        ClaimKind.MARKETING_AUTHORISATION,
        "EC",
        r"\b(?:(?-i:EU)|European\s+Union)\s+(?:approves|approved|authori[sz]es|authori[sz]ed)\b",
    ),
    (
        ClaimKind.MARKETING_AUTHORISATION,
        "EC",
        r"\b(?:approved|approvals?|authori[sz]ed|nod)\s+"
        rf"(?:in|by|for|across)\s+(?:the\s+)?{_EU}\b",
    ),
    # FDA approvals ("wins approval" names no regulator: see _infer below).
    (
        ClaimKind.APPROVAL,
        "FDA",
        rf"\b{_FDA}\s+(?:\w+\s+){{0,2}}?(?:approves|approved|OKs|okays|okayed|greenlights|"
        r"grants?\s+(?:\w+\s+)?approval|granted\s+(?:\w+\s+)?approval)\b",
    ),
    (ClaimKind.APPROVAL, None, rf"\b{_WIN}\s+{_FEW}{_NOD}\b"),
    (
        ClaimKind.APPROVAL,
        "FDA",
        r"\bapproved\s+(?:by|in)\s+(?:the\s+)?"
        rf"(?:{_FDA}|(?-i:U\.?S\.?A?)\b|United\s+States)",
    ),
    # Refusals.
    (ClaimKind.REJECTION, "FDA", r"\bcomplete\s+response\s+letters?\b|(?-i:\bCRLs?\b)"),
    (ClaimKind.REJECTION, "FDA", r"\brefus(?:e|es|ed|al)[-\s]+to[-\s]+file\b"),
    (
        ClaimKind.REJECTION,
        "FDA",
        rf"\b{_FDA}\s+(?:\w+\s+){{0,2}}?(?:rejects|rejected|"
        r"declines?\s+(?:to\s+approve|approval)|declined\s+(?:to\s+approve|approval)|"
        r"refuses\s+to\s+approve|refused\s+to\s+approve|turns?\s+down|turned\s+down|snubs)\b",
    ),
    (
        ClaimKind.REJECTION,
        "FDA",
        rf"\b(?:rejected|turned\s+down|rebuffed)\s+by\s+(?:the\s+)?"
        rf"{_FDA}",
    ),
    (ClaimKind.REJECTION, "EC", rf"\b{_EC}\s+{_FEW}(?:refuses|refused|rejects|rejected)\b"),
    # CHMP opinions (EMA's committee recommends; the Commission decides later).
    (ClaimKind.CHMP_NEGATIVE, "EMA", r"\bnegative\s+(?:(?-i:CHMP)\s+)?opinions?\b"),
    (ClaimKind.CHMP_NEGATIVE, "EMA", r"\brecommend(?:s|ed|ing)?\s+(?:the\s+)?refus(?:al|ing)\b"),
    (
        ClaimKind.CHMP_NEGATIVE,
        "EMA",
        rf"\b{_EMA}\b[^.;:!?]{{0,40}}?\brecommend(?:s|ed|ing)?\s+"
        r"against\b",
    ),
    (ClaimKind.CHMP_POSITIVE, "EMA", r"\bpositive\s+(?:(?-i:CHMP)\s+)?opinions?\b"),
    (
        ClaimKind.CHMP_POSITIVE,
        "EMA",
        rf"\brecommended\s+for\s+(?:\w+\s+)?approval\s+(?:in|across)\s+(?:the\s+)?{_EU}\b",
    ),
    (
        ClaimKind.CHMP_POSITIVE,
        "EMA",
        rf"\b{_EMA}\b[^.;:!?]{{0,40}}?\brecommend(?:s|ed|ing)?\s+"
        rf"{_FEW}(?:approval|granting|{_MA}|authori[sz]ing)\b",
    ),
    (
        ClaimKind.CHMP_POSITIVE,
        "EMA",
        rf"\b{_EMA}\s+(?:\w+\s+)?(?:backs|backed|endorses|endorsed)\b",
    ),
    # Withdrawals: of an application, or of a medicine from the market.
    (
        ClaimKind.WITHDRAWAL,
        None,
        rf"\b(?:withdr[ae]w(?:s|n|ing)?|pulls?|pulled)\s+{_FEW}(?:{_MA}\s+)?"
        r"applications?\b",
    ),
    (
        ClaimKind.WITHDRAWAL,
        None,
        r"\bapplications?\s+(?:(?:was|is|were|has\s+been|have\s+been)"
        r"\s+)?withdrawn\b",
    ),
    (
        ClaimKind.WITHDRAWAL,
        None,
        r"\bwithdrawal\s+of\s+(?:the\s+|its\s+|an?\s+)?"
        rf"(?:(?:{_MA})(?:\s+applications?)?|applications?)\b",
    ),
    (ClaimKind.WITHDRAWAL, None, r"\bmarket\s+withdrawal\b|\bpulled\s+from\s+(?:the\s+)?market\b"),
    (
        ClaimKind.WITHDRAWAL,
        None,
        rf"\bwithdr[ae]w(?:s|n|ing)?\s+{_FEW}from\s+(?:the\s+)?"
        r"(?:(?-i:US|U\.S\.|EU)\s+|European\s+)?market\b",
    ),
)
_COMPILED = tuple((kind, reg, re.compile(pattern, re.IGNORECASE)) for kind, reg, pattern in _RULES)

# Words that, earlier in the same clause, make the action hoped-for, pending or denied rather
# than reported ("after" is no hedge: "shares jump after FDA approves X" is a claim). "May" the
# month ("in May") is not a hedge either.
_HEDGE_BEFORE = re.compile(
    r"\b(?:could|might|would|will|should|can|(?<!in\s)may(?!\s+\d)|seeks?|seeking|sought|"
    r"files?|filed|filing|submits?|submitted|submission|applies|applied|plans?|planned|"
    r"planning|expects?|expected|expecting|hopes?|hoping|aims?|eyes|eyeing|awaits?|awaiting|"
    r"pending|potential|possible|possibly|likely|unlikely|poised|nears?|nearing|ahead|on\s+track|"
    r"path|road|bid|push|race|toward|towards|if|whether|not|no|never|without|avoids?|avoided|"
    r"averts?|averted|resubmits?|resubmitted|resubmission|chance|odds|"
    r"recommend(?:s|ed|ing|ation)?)\b",  # a recommendation is not the decision itself
    re.IGNORECASE,
)
# Approvals that are not a medicine's: a merger, a board's vote, a trial's go-ahead.
_NOT_A_MEDICINE = re.compile(
    r"\b(?:shareholders?|stockholders?|board|ethics|(?-i:IRB|IND|CTA)|investors?|merger|"
    r"acquisition|takeover|deal|funding|budget|grant)\b",
    re.IGNORECASE,
)
# ... and words right after it that do the same ("approval expected", "approval to start a trial").
_HEDGE_AFTER = re.compile(
    r"^[\s,]*(?:expected|anticipated|likely|possible|decision|date|deadline|risk|fears?|hopes?|"
    r"in\s+sight|on\s+the\s+horizon|to\s+(?:start|begin|initiate|test|run|proceed|launch|enrol|"
    r"enroll|expand|resume|conduct)|for\s+(?:a\s+|the\s+|its\s+)?(?:trial|study|phase))\b"
    r"|^[^.;:!|]*\?",
    re.IGNORECASE,
)
# Inside the matched words only modals and negations count ("refuse-to-file" is no hedge).
_HEDGE_INSIDE = re.compile(
    r"\b(?:not|no|never|could|might|would|will|should|can|may|expected|likely|set|due|poised)\b",
    re.IGNORECASE,
)
_TO_BEFORE = re.compile(r"\bto\s*$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\.\s|\s-\s|[;:!?|\u2013\u2014]")
_LOOK_BEHIND = 60
_LOOK_AHEAD = 30
_MENTIONS = (
    ("FDA", re.compile(rf"{_FDA}|(?-i:\bU\.?S\.?\b|\bNDA\b|\bBLA\b)|United\s+States", re.I)),
    ("EC", re.compile(rf"{_EC}|(?-i:\bEU\b)|European\s+Union|\bEurope\b", re.I)),
    ("EMA", re.compile(rf"{_EMA}|{_MA}|(?-i:\bMAA\b)", re.I)),
)


def detect_claim(text: str | None) -> Claim | None:
    """The first regulatory action `text` reports as done, or None (hedged claims are none)."""
    if not text:
        return None
    text = collapse(text.replace("\u2019", "'"))
    found: list[tuple[int, int, Claim]] = []
    for order, (kind, regulator, pattern) in enumerate(_COMPILED):
        for match in pattern.finditer(text):
            if _hedged(text, match.start(), match.end()):
                continue
            claim = _resolve(kind, regulator, text, match.group(0))
            found.append((match.start(), order, claim))
            break
    if not found:
        return None
    # Headlines lead with their news: the earliest claim wins, then the rule order.
    return min(found, key=lambda item: (item[0], item[1]))[2]


def _hedged(text: str, start: int, end: int) -> bool:
    # The clause before the match and the match itself ("FDA has not approved") may hedge it;
    # "to" only right before it ("Ionis to win FDA nod", not "drug to treat ALS wins approval").
    before = _CLAUSE_END.split(text[max(0, start - _LOOK_BEHIND) : start])[-1]
    return bool(
        _HEDGE_BEFORE.search(before)
        or _HEDGE_INSIDE.search(text[start:end])
        or _TO_BEFORE.search(before)
        or _HEDGE_AFTER.search(text[end:])
        or _NOT_A_MEDICINE.search(text[start : end + _LOOK_AHEAD])
    )


def _resolve(kind: ClaimKind, regulator: str | None, text: str, phrase: str) -> Claim:
    if regulator is None:
        regulator = _infer(phrase) or _infer(text)
        if kind is ClaimKind.APPROVAL and regulator in ("EC", "EMA"):
            # "wins approval" in a headline about Europe is the Commission's authorisation.
            return Claim(ClaimKind.MARKETING_AUTHORISATION, "EC", phrase)
        if kind is ClaimKind.WITHDRAWAL and regulator == "EC":
            regulator = "EMA"  # applications and EU market withdrawals are EMA procedures
    return Claim(kind, regulator, phrase)


def _infer(text: str) -> str | None:
    for regulator, pattern in _MENTIONS:
        if pattern.search(text):
            return regulator
    return None
