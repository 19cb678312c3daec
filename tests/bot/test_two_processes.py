"""Two real processes on one database: every alert posted once, every pair polled once a round.

Each round starts two driver processes (tests/fakes/driver.py) against the same database, each
with the registry respx-mocked inside it, both posting to the one fake Slack served here.
Barriers (each process says "ready", later "polled", and waits for the test's "go") make them
poll at the same moment and then flush the outbox at the same moment. Runs on PostgreSQL
(FOR UPDATE SKIP LOCKED + conditional UPDATEs) and SQLite (one writer at a time; the same
conditional UPDATEs decide).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.world import World
from tests.fakes.forked import Forked
from tests.fakes.slack_api import FakeSlack, fake_slack

# Twelve topics over two channels: enough rows for both processes to race on every step.
TOPICS = {f"drug-{i:02d}": ("#fus-als-watch" if i % 2 else None) for i in range(12)}
MIN_GAP_S = 1800  # as a scheduler would pass: half of an hourly interval


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def expect(process: Forked, step: str) -> None:
    """The process reached `step` of its barrier; else fail with what it wrote to stderr."""
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != step:
        process.kill()
        _, err = process.communicate(timeout=30)
        pytest.fail(f"expected {step!r}, got {line!r}; stderr:\n{err}")


def round_of_two(world: World, name: str) -> list[dict[str, Any]]:
    """Run two processes at once; return both reports."""
    processes = [world.spawn(f"{name}-{i}", barrier=True, min_gap_s=MIN_GAP_S) for i in (1, 2)]
    try:
        for step in ("ready", "polled"):  # both poll together, then both flush together
            for process in processes:
                expect(process, step)
            for process in processes:
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:  # a failed round leaves no process (nor pipe) behind
        for process in processes:
            if process.returncode is None:
                process.kill()
                process.communicate(timeout=30)


def polled_once_each(world: World, reports: list[dict[str, Any]]) -> None:
    fetched: Counter[str] = Counter()
    outcomes: dict[str, list[str]] = {}
    for report in reports:
        fetched.update(report["fetched"])
        for poll in report["polls"]:
            outcomes.setdefault(poll["topic"], []).append(poll["outcome"])
    assert fetched == Counter(dict.fromkeys(world.trials.values(), 1))
    for topic, seen in outcomes.items():
        assert sorted(seen).count("skipped") == 1, (topic, seen)


def test_two_processes_never_double_poll_or_double_post(
    tmp_path: Path, db_url: str, slack: FakeSlack
) -> None:
    world = World(tmp_path, db_url, slack, TOPICS)
    names = list(TOPICS)

    polled_once_each(world, round_of_two(world, "baseline"))
    assert slack.messages == []

    world.later(hours=1).change(*names, status="COMPLETED")
    changed = round_of_two(world, "all-change")
    polled_once_each(world, changed)

    world.later(hours=1).change(*names[::2], status="TERMINATED")
    reports = round_of_two(world, "half-change")
    polled_once_each(world, reports)

    alerts = world.alerts()
    assert len(alerts) == 12 + 6
    counts = Counter(slack.posted_alert_ids())
    assert counts == Counter(dict.fromkeys(alerts, 1)), "an alert was lost or posted twice"
    assert set(world.delivery_states()) == {"sent"}
    # The race was real: in the round with alerts, both processes polled and both posted.
    for report in changed:
        assert any(p["outcome"] != "skipped" for p in report["polls"])
        assert report["deliveries"][0]["sent"] > 0
