"""Schema changes never alert: a field a source starts (or stops) tracking is adopted silently."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from state.store import Store
from state.types import ChangeKind
from tests.factories import TRIAL_FIELDS, Clock, result, trial
from tests.state.helpers import routed
from watchers.model import Observation, freeze_fields

CONSOLE: dict[str, str | None] = {"console": None}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def poll(store: Store, clock: Clock, *observations: Observation) -> list[str]:
    """Commit one poll an hour after the last; the field-change texts of its alerts."""
    clock.advance(hours=1)
    report = routed(store, CONSOLE).apply_poll(result(*observations), started=clock(), at=clock())
    return [fc.text for change in report.changes for fc in change.field_changes]


def without(name: str) -> Observation:
    """The FUSION trial as a release that did not track `name` stored it."""
    obs = trial()
    fields = {k: v for k, v in obs.fields.items() if k != name}
    return Observation(**{**obs.__dict__, "fields": freeze_fields(fields)})


def test_a_newly_tracked_field_is_adopted_silently_then_alerts_on_change(store: Store) -> None:
    clock = Clock()
    poll(store, clock, trial())  # baseline, written under the old field set
    assert (
        "study_type"
        not in store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"].observation.fields
    )

    # The upgrade: the source now tracks the study type. No "(none) -> Interventional".
    assert poll(store, clock, trial(study_type="INTERVENTIONAL")) == []
    stored = store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.observation.fields["study_type"] == "INTERVENTIONAL"
    assert "study_type" not in stored.field_changed_at  # adopted, not changed
    assert store.status("ulefnersen").recent_alerts == ()

    # Only a later change of the adopted field alerts.
    assert poll(store, clock, trial(study_type="OBSERVATIONAL")) == [
        "Study type: INTERVENTIONAL → OBSERVATIONAL"
    ]


def test_a_field_adopted_as_empty_alerts_when_it_gets_a_value(store: Store) -> None:
    clock = Clock()
    poll(store, clock, trial())
    assert poll(store, clock, trial(study_type=None)) == []
    assert poll(store, clock, trial(study_type="INTERVENTIONAL")) == [
        "Study type: (none) → INTERVENTIONAL"
    ]


def test_a_field_no_longer_tracked_is_dropped_silently(store: Store) -> None:
    clock = Clock()
    poll(store, clock, trial())
    assert poll(store, clock, without("why_stopped")) == []
    assert (
        "why_stopped"
        not in store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"].observation.fields
    )


def test_a_real_change_in_the_same_poll_still_alerts_alone(store: Store) -> None:
    clock = Clock()
    poll(store, clock, without("why_stopped"))
    changed = trial(overall_status="SUSPENDED", why_stopped="Sponsor decision")
    assert poll(store, clock, changed) == ["Status: Active, not recruiting → Suspended"]
    [alert] = store.status("ulefnersen").recent_alerts
    assert alert.change.kind is ChangeKind.UPDATED
    assert set(TRIAL_FIELDS) <= set(
        store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"].observation.fields
    )


def test_upgrading_from_sites_by_name_to_sites_with_status_alerts_on_no_site(
    store: Store,
) -> None:
    clock = Clock()
    old_release = {
        k: v
        for k, v in TRIAL_FIELDS.items()
        if k not in ("sites", "last_known_status", "status_verified", "fda_regulated_drug")
    }
    old_release["locations"] = ("Columbia University, New York, United States",)
    before = Observation(**{**trial().__dict__, "fields": freeze_fields(old_release)})
    assert poll(store, clock, before) == []  # baseline
    assert poll(store, clock, trial()) == []  # the upgrade: every site, silently
    recruiting_again = ("Columbia University | New York | New York | United States | ",)
    assert poll(store, clock, trial(sites=recruiting_again)) == [
        "No longer recruiting: Columbia University (New York, United States) (now status not given)"
    ]
