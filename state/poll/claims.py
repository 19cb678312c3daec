"""Claim check (pure): does an official record back a headline's claimed regulatory action?

Which records are official evidence, which claims each backs and how each is named are traits
of its source's spec (watchers/registry.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from watchers.model import Observation
from watchers.registry import find_spec, source_label

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


def is_official(obs: Observation) -> bool:
    """Whether an observation is official evidence for the claim check (not news about it)."""
    spec = find_spec(obs.source)
    return spec is not None and spec.for_fields(obs.fields).official_evidence


def confirming_record(claim: str, records: Iterable[Observation]) -> Observation | None:
    """The first official record that backs `claim`, or None."""
    for record in records:
        spec = find_spec(record.source)
        if spec is None:
            continue  # a source no longer registered proves nothing
        spec = spec.for_fields(record.fields)
        rule = spec.confirms.get(claim)
        if spec.official_evidence and rule is not None and rule(record.fields):
            return record
    return None


def describe_record(record: Observation) -> str:
    """A short, human name for an official record, e.g. `Drugs@FDA NDA215887:ORIG-1 (AP …)`."""
    spec = find_spec(record.source)
    if spec is not None and spec.describe is not None:
        return spec.describe(record)
    return f"{source_label(record.source)}: “{record.title}”"


def claim_label(claim: str, record: Observation | None) -> str:
    """The label an alert carries for a claimed regulatory action."""
    qualifier = _QUALIFIER.get(claim, "")
    if record is None:
        return UNCONFIRMED + qualifier
    return f"confirmed by {describe_record(record)}{qualifier}"
