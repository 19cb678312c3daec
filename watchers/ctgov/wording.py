"""ClinicalTrials.gov's fields in people's words, and which of them a clinical team follows."""

from __future__ import annotations

from watchers.ctgov.sites import as_entries, site_events
from watchers.model import FieldValue
from watchers.wording import ResultsClock, Wording

__all__ = ["WORDING"]


def _site_lines(before: FieldValue, after: FieldValue) -> list[str]:
    """Sites read one line per site event ("Now recruiting: ...")."""
    return site_events(as_entries(before), as_entries(after))


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
    },
    enums=frozenset({"overall_status"}),
    enum_words={
        "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
        "EARLY_PHASE1": "Early Phase 1",
        **{f"PHASE{n}": f"Phase {n}" for n in range(1, 5)},
        "NA": "Not applicable",
    },
    sequences=frozenset({"phases"}),
    events={"sites": _site_lines},
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
