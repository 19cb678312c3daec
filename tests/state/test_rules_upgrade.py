"""An upgrade of matching or identity rules re-finds old items without alerting them as new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from state.store import Store
from tests.factories import Clock
from tests.state.helpers import routed
from watchers.model import Observation, SourceResult

CONSOLE: dict[str, str | None] = {"console": None}
SOURCE = "feed:fda_press"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def item(key: str, clock: Clock, *, hours_ago: float | None) -> Observation:
    published = None if hours_ago is None else clock() - timedelta(hours=hours_ago)
    return Observation(
        source=SOURCE,
        key=key,
        topic="ulefnersen",
        title=f"FDA Roundup {key}",
        url=f"https://www.fda.gov/news/{key}",
        fields={"_authority": "FDA", "_outlet": "FDA"},
        published=published,
    )


def poll(store: Store, clock: Clock, *items: Observation, rules_changed: bool) -> list[str]:
    """Commit one poll half an hour after the last; the keys it alerted."""
    clock.advance(minutes=30)
    result = SourceResult(SOURCE, "ulefnersen", items, rules_changed=rules_changed)
    report = routed(store, CONSOLE).apply_poll(result, started=clock(), at=clock())
    return sorted(change.key for change in report.changes)


def test_the_upgrade_poll_adopts_what_it_merely_re_finds(store: Store) -> None:
    clock = Clock()
    old = item("old", clock, hours_ago=48)
    poll(store, clock, old, rules_changed=False)  # baseline under the old rules

    # The first poll under new rules finds an older item the old rules missed (its name was
    # only in the body), one published since the last poll, and one with no date at all.
    refound = item("body-only", clock, hours_ago=24)
    fresh = item("fresh", clock, hours_ago=-0.2)  # 12 minutes after the last poll
    undated = item("undated", clock, hours_ago=None)
    alerted = poll(store, clock, old, refound, fresh, undated, rules_changed=True)

    assert alerted == ["fresh", "undated"]  # a maybe-new item is never silenced
    assert "body-only" in store.snapshot("ulefnersen", SOURCE)  # stored, not lost


def test_outside_the_upgrade_poll_an_old_dated_item_still_alerts(store: Store) -> None:
    clock = Clock()
    poll(store, clock, item("old", clock, hours_ago=48), rules_changed=False)
    late = item("backdated", clock, hours_ago=24)  # a feed that publishes late
    assert poll(store, clock, late, rules_changed=False) == ["backdated"]
