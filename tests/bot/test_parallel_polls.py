"""Polls in parallel: the pool is bounded, a source's topics take turns, results stay in order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from bot.app import App, open_app
from bot.config import ConfigError, load_settings
from bot.polling.pool import run_lanes
from state.types import PollOutcome
from tests.bot.service_helpers import loaded_config
from tests.factories import T0, Clock
from watchers.model import FetchError, SourceResult, Topic

# Long enough never to trip on a slow machine; a passing run never waits for it.
_PATIENCE = 10.0


class Gate:
    """Counts polls in flight; holds each until the test opens the gate."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.order: list[tuple[str, str]] = []
        self.opened = threading.Event()
        self._changed = threading.Condition()

    def enter(self, source: str, topic: str) -> None:
        with self._changed:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.order.append((source, topic))
            self._changed.notify_all()
        assert self.opened.wait(_PATIENCE), "the test never opened the gate"
        with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.in_flight >= count, _PATIENCE)


class GatedWatcher:
    """A source that answers (nothing new) once the gate opens (or fails, if told to)."""

    def __init__(self, source: str, gate: Gate, *, fail: bool = False) -> None:
        self.source = source
        self._gate = gate
        self._fail = fail

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        self._gate.enter(self.source, topic.name)
        if self._fail:
            raise FetchError(f"{self.source} is down")
        return SourceResult(source=self.source, topic=topic.name, unchanged=True)


def _in_background(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    return thread, out


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    loaded = loaded_config(db_url, http={"max_parallel": 3})
    with open_app(loaded, clock=Clock(T0), write=lambda _text: None) as application:
        yield application


def test_check_polls_sources_in_parallel_never_more_than_max_parallel(app: App) -> None:
    gate = Gate()
    app.watchers = [GatedWatcher(f"feed:site {n}", gate) for n in range(7)]
    thread, out = _in_background(app.poll_all)
    gate.wait_for(3)  # three sources at once: they run side by side, not one after another
    gate.opened.set()
    thread.join(_PATIENCE)
    summaries = out[0]
    assert gate.peak == 3  # and never a fourth while the pool was full
    assert len(summaries) == 7 * len(app.topics)
    assert {s.outcome for s in summaries} == {PollOutcome.BASELINE}


def test_a_sources_topics_take_turns_and_results_list_topic_by_topic(app: App) -> None:
    gate = Gate()
    gate.opened.set()
    app.watchers = [GatedWatcher("feed:a", gate), GatedWatcher("feed:b", gate)]
    summaries = app.poll_all()
    names = [t.name for t in app.topics]
    assert [(s.topic, s.source) for s in summaries] == [
        (name, source) for name in names for source in ("feed:a", "feed:b")
    ]
    for source in ("feed:a", "feed:b"):  # one source's topics in the configured order
        assert [t for s, t in gate.order if s == source] == names


def test_a_failing_source_fails_alone_while_the_others_are_polled(app: App) -> None:
    gate = Gate()
    gate.opened.set()
    app.watchers = [
        GatedWatcher("feed:down", gate, fail=True),
        *(GatedWatcher(f"feed:up {n}", gate) for n in range(4)),
    ]
    seen: list[str] = []
    summaries = app.poll_all(lambda summary: seen.append(summary.source))
    outcomes = {(s.source, s.outcome) for s in summaries}
    assert outcomes == {("feed:down", PollOutcome.FAILED)} | {
        (f"feed:up {n}", PollOutcome.BASELINE) for n in range(4)
    }
    assert sorted(seen) == sorted(s.source for s in summaries)  # progress saw every poll


def test_run_lanes_reraises_a_crash_and_starts_nothing_after_it() -> None:
    started: list[int] = []
    stop = threading.Event()
    first_started = threading.Event()

    def crash() -> int:
        assert first_started.wait(_PATIENCE)
        raise RuntimeError("bug")

    def slow(index: int) -> Callable[[], int]:
        def job() -> int:
            started.append(index)
            first_started.set()
            assert stop.wait(_PATIENCE)  # still in hand when the crash is seen
            return index

        return job

    lanes = [[(0, crash)], [(1, slow(1)), (2, slow(2)), (3, slow(3))]]
    with pytest.raises(RuntimeError, match="bug"):
        run_lanes(lanes, 2, stop=stop)
    assert started == [1]  # the poll in hand finished; the lane took no other


def test_max_parallel_and_zero_pacing_are_accepted_and_checked(tmp_path: Any) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        '[[topics]]\nname = "x"\n[http]\nmin_interval = 0\nmax_parallel = 40\n', encoding="utf-8"
    )
    settings = load_settings(str(good)).settings
    assert (settings.http.min_interval, settings.http.max_parallel) == (0.0, 40)
    for bad in ("max_parallel = 0", "min_interval = -1"):
        path = tmp_path / "bad.toml"
        path.write_text(f'[[topics]]\nname = "x"\n[http]\n{bad}\n', encoding="utf-8")
        with pytest.raises(ConfigError, match=bad.split(" ")[0]):
            load_settings(str(path))


def test_by_default_32_sources_are_polled_at_once(db_url: str) -> None:
    """The default `max_parallel`: 40 slow sources on distinct hosts go 32 at a time."""
    gate = Gate()
    with open_app(loaded_config(db_url), clock=Clock(T0), write=lambda _text: None) as app:
        app.watchers = [GatedWatcher(f"feed:site {n}", gate) for n in range(40)]
        thread, out = _in_background(app.poll_all)
        gate.wait_for(32)
        gate.opened.set()
        thread.join(_PATIENCE)
    assert gate.peak == 32
    assert len(out[0]) == 40 * len(app.topics)
