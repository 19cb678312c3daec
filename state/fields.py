"""Field semantics: which fields alert, how a change reads in human words, how severe it is."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from state.types import ChangeKind, FieldChange, Severity
from watchers.model import FieldValue

__all__ = [
    "BOOKKEEPING_FIELDS",
    "SOURCE_LABELS",
    "describe_change",
    "field_label",
    "format_value",
    "humanize_enum",
    "severity_for",
    "source_label",
]

# Stored for the record but never alerted on: they move without anything happening
# (SOURCES.md 1: lastUpdatePostDate and derived data change on registry housekeeping).
BOOKKEEPING_FIELDS = frozenset({"last_update_posted"})

_LABELS = {
    "brief_title": "Title",
    "overall_status": "Status",
    "why_stopped": "Why stopped",
    "phases": "Phase",
    "enrollment": "Enrollment",
    "start_date": "Start",
    "primary_completion_date": "Primary completion",
    "completion_date": "Completion",
    "has_results": "Results posted",
    "results_first_posted": "Results first posted",
    "lead_sponsor": "Lead sponsor",
    "locations": "Sites",
    "submission_status": "FDA submission status",
    "submission_status_date": "FDA status date",
    "medicine_status": "EMA medicine status",
    "opinion_status": "CHMP opinion",
    "opinion_adopted_date": "CHMP opinion adopted",
    "european_commission_decision_date": "European Commission decision",
    "marketing_authorisation_date": "Marketing authorisation",
}

SOURCE_LABELS = {
    "clinicaltrials": "ClinicalTrials.gov",
    "openfda": "openFDA Drugs@FDA",
    "ema_medicines": "EMA medicines data",
    "google_news": "Google News",
    "pubmed": "PubMed",
    "feed": "RSS feed",  # `feed:<name>` sources are labelled by their name (source_label)
}

_ENUM_WORDS = {
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "EARLY_PHASE1": "Early Phase 1",
    "NA": "Not applicable",
}

# Drugs@FDA submission status codes (SOURCES.md 2b); the raw code stays visible in brackets.
_SUBMISSION_STATUS_WORDS = {"AP": "Approved (AP)", "TA": "Tentatively approved (TA)"}

# Trial statuses that end or halt a study: a clinical team must hear of these first.
_HIGH_TRIAL_STATUSES = frozenset({"SUSPENDED", "TERMINATED", "WITHDRAWN", "COMPLETED"})


def source_label(source: str) -> str:
    """A person's name for a source id (`feed:EMA news` -> `EMA news`)."""
    kind, _, name = source.partition(":")
    return name if name else SOURCE_LABELS.get(kind, source)


def field_label(field: str) -> str:
    """A person's name for a tracked field."""
    return _LABELS.get(field, field.replace("_", " ").capitalize())


def humanize_enum(value: str) -> str:
    """`ACTIVE_NOT_RECRUITING` -> `Active, not recruiting`; `PHASE3` -> `Phase 3`."""
    if value in _ENUM_WORDS:
        return _ENUM_WORDS[value]
    if value.startswith("PHASE") and value[5:].isdigit():
        return f"Phase {value[5:]}"
    return value.replace("_", " ").capitalize() if value.isupper() else value


def format_value(field: str, value: FieldValue) -> str:
    """One field value in human words."""
    if value is None or value == ():
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "/".join(humanize_enum(v) for v in value) if field == "phases" else "; ".join(value)
    if field == "overall_status" and isinstance(value, str):
        return humanize_enum(value)
    if field == "submission_status" and isinstance(value, str):
        return _SUBMISSION_STATUS_WORDS.get(value, value)
    return str(value)


def describe_change(field: str, before: FieldValue, after: FieldValue) -> FieldChange:
    """A FieldChange worded for people; sets (sites) read as added/removed, not before/after."""
    label = field_label(field)
    if isinstance(before, tuple | type(None)) and isinstance(after, tuple) and field != "phases":
        old, new = set(before or ()), set(after)
        parts = []
        if added := sorted(new - old):
            parts.append("added " + "; ".join(added))
        if removed := sorted(old - new):
            parts.append("removed " + "; ".join(removed))
        text = f"{label}: " + ", ".join(parts)
    else:
        text = f"{label}: {format_value(field, before)} → {format_value(field, after)}"
    return FieldChange(field=field, label=label, before=before, after=after, text=text)


SeverityRule = Callable[[ChangeKind, Mapping[str, FieldValue], tuple[FieldChange, ...]], Severity]


def _trial_severity(
    kind: ChangeKind, fields: Mapping[str, FieldValue], changes: tuple[FieldChange, ...]
) -> Severity:
    if kind is ChangeKind.NEW and fields.get("overall_status") in _HIGH_TRIAL_STATUSES:
        return Severity.HIGH
    for change in changes:
        if change.field == "overall_status" and change.after in _HIGH_TRIAL_STATUSES:
            return Severity.HIGH
        if change.field in ("has_results", "results_first_posted") and change.after:
            return Severity.HIGH
    return Severity.NORMAL


def _fda_severity(
    kind: ChangeKind, fields: Mapping[str, FieldValue], changes: tuple[FieldChange, ...]
) -> Severity:
    # An approval (AP), new or reached from another status, is what the team waits for.
    if kind is ChangeKind.NEW and fields.get("submission_status") == "AP":
        return Severity.HIGH
    if any(c.field == "submission_status" and c.after == "AP" for c in changes):
        return Severity.HIGH
    return Severity.NORMAL


# EMA milestones: a CHMP opinion, the Commission's decision, the marketing authorisation.
_EMA_MILESTONE_DATES = frozenset(
    {"opinion_adopted_date", "european_commission_decision_date", "marketing_authorisation_date"}
)


def _ema_severity(
    kind: ChangeKind, fields: Mapping[str, FieldValue], changes: tuple[FieldChange, ...]
) -> Severity:
    del fields  # a new EMA record is high whatever it says
    if kind is ChangeKind.NEW:
        return Severity.HIGH
    for change in changes:
        if change.field == "medicine_status":
            return Severity.HIGH
        # A CHMP opinion, positive or negative, is a regulator's approval or rejection.
        if change.field == "opinion_status" and change.after:
            return Severity.HIGH
        if change.field in _EMA_MILESTONE_DATES and not change.before and change.after:
            return Severity.HIGH
    return Severity.NORMAL


# Claims (watchers.claims.ClaimKind values) that make an agency's own feed item loud.
_REGULATORY_CLAIMS = frozenset(
    {
        "approval",
        "marketing_authorisation",
        "rejection",
        "chmp_positive",
        "chmp_negative",
        "withdrawal",
    }
)


def _feed_severity(
    kind: ChangeKind, fields: Mapping[str, FieldValue], changes: tuple[FieldChange, ...]
) -> Severity:
    # An FDA/EMA item announcing a regulatory action or a safety communication is high;
    # other agency and company items normal; news feeds low (feed items alert once, as new).
    authority = fields.get("_authority")
    if fields.get("_matched_in") == "text" and authority not in ("FDA", "EMA"):
        # Named only in the item's text: never high unless a regulator published it.
        return Severity.NORMAL if authority == "company" else Severity.LOW
    if authority in ("FDA", "EMA"):
        if fields.get("_claim") in _REGULATORY_CLAIMS or fields.get("_safety") is True:
            return Severity.HIGH
        return Severity.NORMAL
    return Severity.NORMAL if authority == "company" else Severity.LOW


def _news_severity(
    kind: ChangeKind, fields: Mapping[str, FieldValue], changes: tuple[FieldChange, ...]
) -> Severity:
    # News and papers are low: a claim in them is only a claim until an official record backs it.
    return Severity.LOW


_SEVERITY_RULES: dict[str, SeverityRule] = {
    "clinicaltrials": _trial_severity,
    "openfda": _fda_severity,
    "ema_medicines": _ema_severity,
    "feed": _feed_severity,
    "google_news": _news_severity,
    "pubmed": _news_severity,
}


def severity_for(
    source: str,
    kind: ChangeKind,
    fields: Mapping[str, FieldValue],
    changes: tuple[FieldChange, ...] = (),
) -> Severity:
    """How loudly a change should be told, by the rules of its kind of source."""
    rule = _SEVERITY_RULES.get(source.partition(":")[0])
    return rule(kind, fields, changes) if rule else Severity.NORMAL
