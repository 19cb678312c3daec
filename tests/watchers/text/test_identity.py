"""Stable keys for churning items: what is remembered, and when a fingerprint is not trusted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from watchers.model import Observation
from watchers.text.identity import FINGERPRINTS_KEY, settle_keys

DAY = datetime(2026, 11, 3, 9, tzinfo=UTC)


def item(key: str, title: str = "FDA approves ulefnersen", published: datetime | None = DAY):
    return Observation("feed:FDA", key, "ulefnersen", title, f"https://x.test/{key}", {}, published)


def test_a_known_fingerprint_gives_back_the_earlier_key() -> None:
    _, meta = settle_keys([item("guid-1")], {})
    [settled], _ = settle_keys([item("guid-2", "FDA Approves: Ulefnersen!")], meta)
    assert settled.key == "guid-1"


def test_an_undated_item_keeps_its_own_key() -> None:
    _, meta = settle_keys([item("guid-1", published=None)], {})
    [settled], _ = settle_keys([item("guid-2", published=None)], meta)
    assert settled.key == "guid-2"


def test_another_day_is_another_item() -> None:
    _, meta = settle_keys([item("guid-1")], {})
    [settled], _ = settle_keys([item("guid-2", published=DAY.replace(day=4))], meta)
    assert settled.key == "guid-2"


def test_a_key_held_by_another_item_of_the_poll_is_not_taken() -> None:
    _, meta = settle_keys([item("guid-1")], {})
    renamed = item("guid-1", "FDA approves ulefnersen for FUS-ALS")  # same key, new title
    settled, _ = settle_keys([renamed, item("guid-2")], meta)
    assert sorted(o.key for o in settled) == ["guid-1", "guid-2"]


@pytest.mark.parametrize("stored", ["{not json", "[1, 2]", '{"a": 1}'])
def test_a_damaged_memory_costs_nothing_but_the_memory(stored: str) -> None:
    [settled], meta = settle_keys([item("guid-2")], {FINGERPRINTS_KEY: stored})
    assert settled.key == "guid-2"
    assert list(json.loads(meta[FINGERPRINTS_KEY]).values()) == ["guid-2"]


def test_memory_is_bounded() -> None:
    meta: dict[str, str] = {}
    for day in range(1, 29):
        for n in range(30):
            observation = item(f"k{day}-{n}", f"story {n}", DAY.replace(day=day))
            _, meta = settle_keys([observation], meta)
    assert len(json.loads(meta[FINGERPRINTS_KEY])) == 500
