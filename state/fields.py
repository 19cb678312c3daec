"""Field semantics: which fields alert, how a change reads in human words, how severe it is.

What is source-specific (labels, severity rules) is asked of the source's spec.
"""

from __future__ import annotations

from collections.abc import Mapping

from state.types import ChangeKind, FieldChange, Severity
from watchers.ctgov.sites import as_entries, site_events
from watchers.model import FieldValue
from watchers.registry import source_label, spec_for

__all__ = [
    "BOOKKEEPING_FIELDS",
    "describe_change",
    "describe_changes",
    "field_label",
    "format_value",
    "humanize_enum",
    "severity_for",
    "source_label",
    "status_words",
]

# Stored for the record but never alerted on: they move without anything happening
# (docs/sources.md#clinicaltrialsgov: lastUpdatePostDate and derived data change on registry
# housekeeping).
# The last known status is told with the status itself; the verification date moves on every
# re-verification (status flags it when it is over a year old).
BOOKKEEPING_FIELDS = frozenset({"last_update_posted", "last_known_status", "status_verified"})

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
    "sites": "Sites",
    "last_known_status": "Last known status",
    "status_verified": "Status verified",
    "fda_regulated_drug": "FDA-regulated drug",
    "results_clock": "Results clock",
    "submission_status": "FDA submission status",
    "submission_status_date": "FDA status date",
    "medicine_status": "EMA medicine status",
    "opinion_status": "CHMP opinion",
    "opinion_adopted_date": "CHMP opinion adopted",
    "european_commission_decision_date": "European Commission decision",
    "marketing_authorisation_date": "Marketing authorisation",
}

_ENUM_WORDS = {
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "EARLY_PHASE1": "Early Phase 1",
    "NA": "Not applicable",
}

# Drugs@FDA submission status codes (docs/sources.md#openfda); the raw code stays visible in
# brackets.
_SUBMISSION_STATUS_WORDS = {"AP": "Approved (AP)", "TA": "Tentatively approved (TA)"}


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


def status_words(fields: Mapping[str, FieldValue]) -> str:
    """A trial's overall status in words; UNKNOWN says what the status was last known to be."""
    status = fields.get("overall_status")
    words = format_value("overall_status", status)
    last_known = fields.get("last_known_status")
    if status == "UNKNOWN" and isinstance(last_known, str) and last_known:
        words += f" (last known: {humanize_enum(last_known)})"
    return words


def describe_changes(
    field: str,
    before: FieldValue,
    after: FieldValue,
    *,
    was: Mapping[str, FieldValue],
    now: Mapping[str, FieldValue],
) -> tuple[FieldChange, ...]:
    """One field's change in words, given both records (`was`, `now`) for context.

    Sites read one line per site event ("Now recruiting: ..."); a status reads with its last
    known status when it is UNKNOWN.
    """
    label = field_label(field)
    if field == "sites":
        events = site_events(as_entries(before), as_entries(after))
        return tuple(FieldChange(field, label, before, after, text) for text in events)
    if field == "overall_status":
        text = f"{label}: {status_words(was)} → {status_words(now)}"
        return (FieldChange(field, label, before, after, text),)
    return (describe_change(field, before, after),)


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


def severity_for(
    source: str,
    kind: ChangeKind,
    fields: Mapping[str, FieldValue],
    changes: tuple[FieldChange, ...] = (),
) -> Severity:
    """How loudly a change should be told, by its source's spec (watchers/registry.py)."""
    spec = spec_for(source).for_fields(fields)
    return spec.severity(kind is ChangeKind.NEW, fields, changes)
