"""Diff semantics, table-driven: (stored, polled) -> the alerts a person would get."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from state.poll.diff import diff
from state.types import ChangeKind, Severity, StoredObservation
from tests.factories import T0, result, trial
from watchers.model import Observation, SourceResult


def stored(obs: Observation, removed: bool = False) -> StoredObservation:
    return StoredObservation(
        observation=obs,
        first_seen=T0,
        last_seen=T0,
        last_changed=T0,
        removed_at=T0 if removed else None,
    )


@dataclass
class Case:
    id: str
    before: list[StoredObservation]
    after: SourceResult
    expected: list[tuple[ChangeKind, str, Severity, list[str]]]  # kind, key, severity, texts


CASES = [
    Case("unchanged study: nothing", [stored(trial())], result(trial()), []),
    Case(
        "status to completed: one high alert with every changed field",
        [stored(trial())],
        result(
            trial(
                overall_status="COMPLETED",
                primary_completion_date="2026-08-28 (actual)",
                enrollment="88 (actual)",
            )
        ),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.HIGH,
                [
                    "Enrollment: 95 (estimated) → 88 (actual)",
                    "Status: Active, not recruiting → Completed",
                    "Primary completion: 2026-09 (estimated) → 2026-08-28 (actual)",
                ],
            )
        ],
    ),
    Case(
        "date slips: normal severity",
        [stored(trial())],
        result(trial(primary_completion_date="2026-12 (estimated)")),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.NORMAL,
                ["Primary completion: 2026-09 (estimated) → 2026-12 (estimated)"],
            )
        ],
    ),
    Case(
        "results posted: high",
        [stored(trial())],
        result(trial(has_results=True, results_first_posted="2026-11-20")),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.HIGH,
                ["Results posted: no → yes", "Results first posted: (none) → 2026-11-20"],
            )
        ],
    ),
    Case(
        "a site starts recruiting, another stops: one line each, starts first",
        [
            stored(
                trial(
                    sites=(
                        "Columbia University | New York | New York | United States | RECRUITING",
                        "Stanford | Palo Alto | California | United States | NOT_YET_RECRUITING",
                    )
                )
            )
        ],
        result(
            trial(
                sites=(
                    "Columbia University | New York | New York | United States | COMPLETED",
                    "Stanford | Palo Alto | California | United States | RECRUITING",
                )
            )
        ),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.NORMAL,
                [
                    "Now recruiting: Stanford (Palo Alto, United States)",
                    "No longer recruiting: Columbia University (New York, United States) "
                    "(now Completed)",
                ],
            )
        ],
    ),
    Case(
        "status turns UNKNOWN: the alert says the last known status",
        [stored(trial(overall_status="RECRUITING"))],
        result(trial(overall_status="UNKNOWN", last_known_status="RECRUITING")),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.NORMAL,
                ["Status: Recruiting → Unknown (last known: Recruiting)"],
            )
        ],
    ),
    Case(
        "re-verification alone: no alert",
        [stored(trial())],
        result(trial(status_verified="2026-11")),
        [],
    ),
    Case(
        "sites added and removed by name",
        [stored(trial())],
        result(trial(sites=("Hopital Pitie-Salpetriere | Paris |  | France | ",))),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.NORMAL,
                [
                    "No longer recruiting: Columbia University (New York, United States) "
                    "(removed from the record)",
                    "Site added: Hopital Pitie-Salpetriere (Paris, France) (status not given)",
                ],
            )
        ],
    ),
    Case(
        "only bookkeeping moved: nothing",
        [stored(trial())],
        result(trial(last_update_posted="2026-11-21")),
        [],
    ),
    Case(
        "informational _fields moved: nothing",
        [stored(trial(_outlet="Reuters"))],
        result(trial(_outlet="Reuters via Yahoo")),
        [],
    ),
    Case(
        "new study found by search: one alert",
        [stored(trial())],
        result(trial(), trial("NCT09999999")),
        [(ChangeKind.NEW, "NCT09999999", Severity.NORMAL, [])],
    ),
    Case(
        "study missing from a search result is not removed",
        [stored(trial()), stored(trial("NCT09999999"))],
        result(trial()),
        [],
    ),
    Case(
        "study the registry no longer has (by id): removed",
        [stored(trial())],
        result(gone=frozenset({"NCT04768972"})),
        [(ChangeKind.REMOVED, "NCT04768972", Severity.NORMAL, [])],
    ),
    Case(
        "already removed and still gone: nothing",
        [stored(trial(), removed=True)],
        result(gone=frozenset({"NCT04768972"})),
        [],
    ),
    Case(
        "removed study back: new",
        [stored(trial(), removed=True)],
        result(trial()),
        [(ChangeKind.NEW, "NCT04768972", Severity.NORMAL, [])],
    ),
    Case(
        "source says unchanged: nothing even if observations empty",
        [stored(trial())],
        result(unchanged=True),
        [],
    ),
    Case(
        "terminated with reason: high, reason shown",
        [stored(trial())],
        result(trial(overall_status="TERMINATED", why_stopped="Sponsor decision")),
        [
            (
                ChangeKind.UPDATED,
                "NCT04768972",
                Severity.HIGH,
                [
                    "Status: Active, not recruiting → Terminated",
                    "Why stopped: (none) → Sponsor decision",
                ],
            )
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_diff(case: Case) -> None:
    previous = {s.observation.key: s for s in case.before}
    changes = diff(previous, case.after)
    got = [(c.kind, c.key, c.severity, sorted(fc.text for fc in c.field_changes)) for c in changes]
    want = [(k, key, sev, sorted(texts)) for k, key, sev, texts in case.expected]
    assert got == want


def test_removed_alert_keeps_title_and_link() -> None:
    [change] = diff({"NCT04768972": stored(trial())}, result(gone=frozenset({"NCT04768972"})))
    assert change.title == "FUSION: ION363 in FUS-ALS"
    assert change.url == "https://clinicaltrials.gov/study/NCT04768972"
    assert change.detail and "no longer" in change.detail
