"""Claim check (pure): does an official record back a headline's claimed regulatory action?"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from state.fields import source_label
from watchers.model import FieldValue, Observation

__all__ = [
    "CLAIM_KINDS",
    "UNCONFIRMED",
    "claim_label",
    "confirming_record",
    "describe_record",
    "is_official",
]

UNCONFIRMED = "unconfirmed: no FDA/EMA record yet"
# Claim kinds as the watchers' claim detection writes them into the `_claim` field.
CLAIM_KINDS = (
    "approval",
    "marketing_authorisation",
    "chmp_positive",
    "chmp_negative",
    "rejection",
    "withdrawal",
)
_QUALIFIER = {
    "chmp_positive": " (a CHMP opinion, not a European Commission decision)",
    "chmp_negative": " (a CHMP opinion, not a European Commission decision)",
    "marketing_authorisation": " (European Commission decision)",
}

Fields = Mapping[str, FieldValue]


def _official_feed(fields: Fields, *claims: str) -> bool:
    return fields.get("_authority") in ("FDA", "EMA") and fields.get("_claim") in claims


def _fda_approved(fields: Fields) -> bool:
    # A supplement's approval (new indication, label change) is not the drug's approval.
    return fields.get("submission_status") == "AP" and fields.get("_submission_type") in (
        None,
        "ORIG",
    )


def _ec_decided(fields: Fields) -> bool:
    return bool(fields.get("european_commission_decision_date")) or (
        fields.get("medicine_status") == "Authorised"
    )


def _chmp_positive(fields: Fields) -> bool:
    if fields.get("opinion_status"):
        return fields.get("opinion_status") == "Positive"
    return bool(fields.get("opinion_adopted_date")) and fields.get("medicine_status") != "Refused"


# For each claim kind: which official record, by source kind, backs it.
_RULES: dict[str, dict[str, Callable[[Fields], bool]]] = {
    "approval": {
        "openfda": _fda_approved,
        "ema_medicines": _ec_decided,
        "feed": lambda f: _official_feed(f, "approval", "marketing_authorisation"),
    },
    "marketing_authorisation": {
        "ema_medicines": _ec_decided,
        "feed": lambda f: _official_feed(f, "marketing_authorisation"),
    },
    "chmp_positive": {
        "ema_medicines": _chmp_positive,
        "feed": lambda f: _official_feed(f, "chmp_positive"),
    },
    "chmp_negative": {
        "ema_medicines": lambda f: (
            f.get("medicine_status") == "Refused" or f.get("opinion_status") == "Negative"
        ),
        "feed": lambda f: _official_feed(f, "chmp_negative"),
    },
    "rejection": {"feed": lambda f: _official_feed(f, "rejection")},
    "withdrawal": {
        "ema_medicines": lambda f: f.get("medicine_status") == "Withdrawn",
        "feed": lambda f: _official_feed(f, "withdrawal"),
    },
}


def is_official(obs: Observation) -> bool:
    """Whether an observation is an official regulatory record (not news about one)."""
    kind = obs.source.partition(":")[0]
    if kind in ("openfda", "ema_medicines"):
        return True
    return kind == "feed" and obs.fields.get("_authority") in ("FDA", "EMA")


def confirming_record(claim: str, records: Iterable[Observation]) -> Observation | None:
    """The first official record that backs `claim`, or None."""
    rules = _RULES.get(claim, {})
    for record in records:
        rule = rules.get(record.source.partition(":")[0])
        if rule is not None and is_official(record) and rule(record.fields):
            return record
    return None


def describe_record(record: Observation) -> str:
    """A short, human name for an official record, e.g. `Drugs@FDA NDA215887:ORIG-1 (AP …)`."""
    kind = record.source.partition(":")[0]
    fields = record.fields
    if kind == "openfda":
        status, date = fields.get("submission_status"), fields.get("submission_status_date")
        return f"Drugs@FDA {record.key} ({status} {date})" if date else f"Drugs@FDA {record.key}"
    if kind == "ema_medicines":
        decision = fields.get("european_commission_decision_date")
        opinion = fields.get("opinion_adopted_date")
        when = (
            f"EC decision {decision}" if decision else f"CHMP opinion {opinion}" if opinion else ""
        )
        status = fields.get("medicine_status") or ""
        extra = "; ".join(p for p in (str(status), when) if p)
        return f"EMA medicines data: {record.title}" + (f" ({extra})" if extra else "")
    return f"{source_label(record.source)}: “{record.title}”"


def claim_label(claim: str, record: Observation | None) -> str:
    """The label an alert carries for a claimed regulatory action."""
    qualifier = _QUALIFIER.get(claim, "")
    if record is None:
        return UNCONFIRMED + qualifier
    return f"confirmed by {describe_record(record)}{qualifier}"
