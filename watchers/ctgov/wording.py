"""ClinicalTrials.gov's fields in people's words, and which of them a clinical team follows."""

from __future__ import annotations

from collections.abc import Callable

from watchers.ctgov.protocol import criteria_lines, named_entries
from watchers.ctgov.sites import as_entries, site_events
from watchers.model import FieldValue
from watchers.wording import ResultsClock, Wording

__all__ = ["WORDING"]


def _site_lines(before: FieldValue, after: FieldValue) -> list[str]:
    """Sites read one line per site event ("Now recruiting: ...")."""
    return site_events(as_entries(before), as_entries(after))


def _words(value: FieldValue) -> str:
    """A protocol value as people read it: "PLACEBO_COMPARATOR" -> "Placebo comparator"."""
    if value is None or value == ():
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "; ".join(value)
    text = str(value)
    return text.replace("_", " ").capitalize() if text.isupper() else text


def _said(label: str) -> Callable[[FieldValue, FieldValue], list[str]]:
    """ "Eligibility: minimum age 18 Years → 12 Years"."""
    return lambda before, after: [f"{label} {_words(before)} → {_words(after)}"]


def _outcome_lines(before: FieldValue, after: FieldValue) -> list[str]:
    """ "Primary outcome changed: <old> → <new>", or what was added or removed."""
    old = set(before) if isinstance(before, tuple) else set()
    new = set(after) if isinstance(after, tuple) else set()
    added, removed = sorted(new - old), sorted(old - new)
    if added and removed:
        return [f"Primary outcome changed: {'; '.join(removed)} → {'; '.join(added)}"]
    return [f"Primary outcome added: {item}" for item in added] + [
        f"Primary outcome removed: {item}" for item in removed
    ]


def _named_lines(noun: str, typed_first: bool) -> Callable[[FieldValue, FieldValue], list[str]]:
    """Arms by label, interventions by name: "Arm removed: <label>", a type changed in place."""

    def shown(name: str, kind: str) -> str:
        if not kind:
            return name
        return f"{_words(kind)}: {name}" if typed_first else f"{name} ({_words(kind)})"

    def lines(before: FieldValue, after: FieldValue) -> list[str]:
        old, new = named_entries(before), named_entries(after)
        said = [f"{noun} removed: {shown(n, old[n])}" for n in sorted(old) if n not in new]
        said += [f"{noun} added: {shown(n, new[n])}" for n in sorted(new) if n not in old]
        said += [
            f"{noun} {name}: {_words(old[name])} → {_words(new[name])}"
            for name in sorted(old)
            if name in new and old[name] != new[name]
        ]
        return said

    return lines


WORDING = Wording(
    labels={
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
        "primary_outcomes": "Primary outcome",
        "primary_time_frames": "Primary outcome time frame",
        "secondary_outcomes": "Secondary outcomes",
        "eligibility_criteria": "Eligibility criteria",
        "sex": "Eligibility: sex",
        "minimum_age": "Eligibility: minimum age",
        "maximum_age": "Eligibility: maximum age",
        "healthy_volunteers": "Eligibility: healthy volunteers",
        "arms": "Arms",
        "interventions": "Interventions",
        "allocation": "Allocation",
        "intervention_model": "Intervention model",
        "masking": "Masking",
        "primary_purpose": "Primary purpose",
    },
    value_words={
        "masking": {
            "NONE": "None (Open Label)",
            "SINGLE": "Single",
            "DOUBLE": "Double",
            "TRIPLE": "Triple",
            "QUADRUPLE": "Quadruple",
        }
    },
    enums=frozenset({"overall_status", "allocation", "intervention_model", "primary_purpose"}),
    enum_words={
        "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
        "EARLY_PHASE1": "Early Phase 1",
        **{f"PHASE{n}": f"Phase {n}" for n in range(1, 5)},
        "NA": "Not applicable",
    },
    sequences=frozenset({"phases"}),
    events={
        "sites": _site_lines,
        "primary_outcomes": _outcome_lines,
        "primary_time_frames": _said("Primary outcome time frame:"),
        "eligibility_criteria": criteria_lines,
        "sex": _said("Eligibility: sex"),
        "minimum_age": _said("Eligibility: minimum age"),
        "maximum_age": _said("Eligibility: maximum age"),
        "healthy_volunteers": _said("Eligibility: healthy volunteers"),
        "arms": _named_lines("Arm", typed_first=False),
        "interventions": _named_lines("Intervention", typed_first=True),
    },
    # Stored for the record but never alerted on: they move without anything happening
    # (docs/sources.md#clinicaltrialsgov: lastUpdatePostDate and derived data change on registry
    # housekeeping). The last known status is told with the status itself; the verification
    # date moves on every re-verification (status flags it when it is over a year old).
    bookkeeping=frozenset({"last_update_posted", "last_known_status", "status_verified"}),
    status="overall_status",
    last_known_status="last_known_status",
    key_facts=(
        "overall_status",
        "why_stopped",
        "enrollment",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "has_results",
        "results_first_posted",
    ),
    optional_facts=frozenset({"why_stopped", "results_first_posted"}),
    dates=(
        ("start_date", "Start"),
        ("primary_completion_date", "Primary completion"),
        ("completion_date", "Completion"),
    ),
    calendar=(
        ("start_date", "Start"),
        ("primary_completion_date", "Primary completion"),
        ("completion_date", "Completion"),
    ),
    results_clock=ResultsClock(
        regulated="fda_regulated_drug",
        completion="primary_completion_date",
        posted=("has_results", "results_first_posted"),
    ),
)
