"""Upgrading to a release that reads the protocol: today's stored studies alert on nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from state.store import Store
from tests.factories import Clock, result
from tests.state.helpers import routed
from tests.watchers.ctgov.test_protocol import TOPIC, load
from watchers.ctgov.protocol import PROTOCOL_FIELDS
from watchers.ctgov.watcher import parse_study
from watchers.model import Observation, freeze_fields

CONSOLE: dict[str, str | None] = {"console": None}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def _as_stored_before_the_upgrade(observation: Observation) -> Observation:
    """The study as the release that did not read the protocol stored it."""
    fields = {k: v for k, v in observation.fields.items() if k not in PROTOCOL_FIELDS}
    return Observation(**{**observation.__dict__, "fields": freeze_fields(fields)})


def test_upgrading_from_a_snapshot_without_the_protocol_alerts_on_nothing(store: Store) -> None:
    clock = Clock()
    study = load("ctgov_study.json")
    now = parse_study(study, TOPIC, by_id=True)

    def poll(observation: Observation) -> list[str]:
        clock.advance(hours=1)
        report = routed(store, CONSOLE).apply_poll(result(observation), started=clock(), at=clock())
        return [fc.text for change in report.changes for fc in change.field_changes]

    assert poll(_as_stored_before_the_upgrade(now)) == []  # today's snapshot
    assert poll(now) == []  # the upgrade: fourteen new fields, no alert
    stored = store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.observation.fields["masking"] == "DOUBLE"
    assert store.status("ulefnersen").recent_alerts == ()

    study["protocolSection"]["designModule"]["designInfo"]["maskingInfo"]["masking"] = "NONE"
    assert poll(parse_study(study, TOPIC, by_id=True)) == ["Masking: Double → None (Open Label)"]
