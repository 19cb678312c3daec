"""Compliance clocks: when results are due, what status says, and which poll raises an alert."""

from __future__ import annotations

from datetime import UTC, date, datetime

from state.compliance import clock_changes, clock_note, results_due
from state.types import ChangeKind, Severity, StoredObservation
from tests.factories import T0, result, trial

DONE = {"primary_completion_date": "2026-08-28 (actual)"}


def test_results_are_due_a_year_after_actual_primary_completion_of_an_fda_drug_study() -> None:
    assert results_due(trial(**DONE).fields) == date(2027, 8, 28)
    assert results_due(trial().fields) is None  # estimated: no clock yet
    assert results_due(trial(fda_regulated_drug=False, **DONE).fields) is None
    assert results_due(trial(fda_regulated_drug=None, **DONE).fields) is None  # not stated
    # A month alone counts from its last day, so the clock never runs early.
    month = trial(primary_completion_date="2026-02 (actual)").fields
    assert results_due(month) == date(2027, 2, 28)


def test_status_note_counts_days_both_ways_and_knows_posted_results() -> None:
    fields = trial(**DONE).fields
    assert clock_note(fields, date(2027, 7, 29)) == "results due 2027-08-28 (in 30 days)"
    assert clock_note(fields, date(2027, 8, 29)) == "results overdue by 1 day (due 2027-08-28)"
    posted = trial(has_results=True, **DONE).fields
    assert clock_note(posted, date(2027, 9, 1)) == "results were due 2027-08-28; posted"


def stored_at(**fields: object) -> dict[str, StoredObservation]:
    obs = trial(**fields)
    return {obs.key: StoredObservation(obs, first_seen=T0, last_seen=T0, last_changed=T0)}


def at(month: int, day: int) -> datetime:
    return datetime(2027, month, day, 9, tzinfo=UTC)


def test_an_alert_only_when_the_clock_enters_a_state_between_two_polls() -> None:
    snapshot = stored_at(**DONE)
    same = result()  # unchanged poll: the stored record is what counts
    assert clock_changes(snapshot, same, last_success=at(7, 28), at=at(7, 28)) == []
    [warn] = clock_changes(snapshot, same, last_success=at(7, 28), at=at(7, 29))
    assert (warn.kind, warn.severity) == (ChangeKind.DEADLINE, Severity.NORMAL)
    assert warn.detail and "in 30 days" in warn.detail
    assert clock_changes(snapshot, same, last_success=at(7, 29), at=at(8, 28)) == []
    [late] = clock_changes(snapshot, same, last_success=at(8, 28), at=at(8, 29))
    assert late.severity is Severity.HIGH
    assert clock_changes(snapshot, same, last_success=at(8, 29), at=at(9, 30)) == []


def test_no_alert_at_the_baseline_for_results_posted_or_a_newly_found_trial() -> None:
    snapshot = stored_at(**DONE)
    assert clock_changes(snapshot, result(), last_success=None, at=at(9, 1)) == []
    posted = result(trial(has_results=True, **DONE))
    assert clock_changes(snapshot, posted, last_success=at(8, 28), at=at(8, 29)) == []
    new_trial = result(trial(key="NCT00000001", **DONE))
    assert clock_changes({}, new_trial, last_success=at(8, 28), at=at(8, 29)) == []
