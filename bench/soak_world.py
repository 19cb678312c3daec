"""The soak's simulated world: fake sources that fail and change at random, and the truth.

Each fake is a `watchers.base.Watcher`. It fails a poll at random (and during occasional
outages), changes now and then, and records what a person should hear about, computed on its
own (not with trialwatch's diff): the differences between two consecutive successful answers,
and the "down"/"recovered" moments of its failure streaks.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from state.fields import BOOKKEEPING_FIELDS
from watchers.model import FetchError, Observation, ParseError, SourceResult, Topic

__all__ = ["EVENT_RATES", "INTERVALS", "WINDOW", "Expected", "FakeSource", "Truth", "make_sources"]

Fields = dict[str, str | None]
_STATUSES = ("NOT_YET_RECRUITING", "RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED")
# Expected changes per topic and simulated day, by source (new items or field changes).
EVENT_RATES = {
    "clinicaltrials": 1.5,
    "openfda": 0.2,
    "feed:FDA press releases": 2.0,
    "google_news": 4.0,
    "pubmed": 1.0,
}
INTERVALS = {  # seconds between polls, as bot/polling/sources.py's defaults
    "clinicaltrials": 3600,
    "openfda": 6 * 3600,
    "feed:FDA press releases": 1800,
    "google_news": 1800,
    "pubmed": 3600,
}
WINDOW = 20  # items a feed shows at a time, by default


@dataclass(frozen=True)
class Expected:
    """One alert a person should get: which record, what kind, which fields from what to what."""

    topic: str
    source: str
    key: str
    kind: str
    fields: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass
class Truth:
    """Everything the fakes did, and what should have been alerted because of it."""

    threshold: int
    polls: int = 0
    faults: int = 0
    items: Counter[Expected] = field(default_factory=Counter)
    arrivals: list[datetime] = field(default_factory=list)  # when each feed item appeared
    health: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _streak: Counter[tuple[str, str]] = field(default_factory=Counter)
    _down: set[tuple[str, str]] = field(default_factory=set)

    def failed(self, pair: tuple[str, str]) -> None:
        self.faults += 1
        self._streak[pair] += 1
        if self._streak[pair] >= self.threshold and pair not in self._down:
            self._down.add(pair)
            self.health.setdefault(pair, []).append("source_down")

    def succeeded(self, pair: tuple[str, str]) -> None:
        self._streak[pair] = 0
        if pair in self._down:
            self._down.discard(pair)
            self.health.setdefault(pair, []).append("source_recovered")


class FakeSource:
    """One source for every topic: records with fields (trials, submissions) or feed items."""

    def __init__(
        self,
        source: str,
        rng: random.Random,
        truth: Truth,
        fail_rate: float,
        events: bool,
        window: int = WINDOW,
    ) -> None:
        self.source = source
        self.window_size = window
        self.rng = rng
        self.truth = truth
        self.fail_rate = fail_rate
        self.events = events
        self.outage_until: datetime | None = None
        self.now = datetime.min
        self.records: dict[str, dict[str, Fields]] = {}  # topic -> key -> fields
        self.gone: dict[str, set[str]] = {}
        self.window: dict[str, list[str]] = {}  # topic -> feed items, newest first
        self.resurfaced: dict[str, str | None] = {}
        self.served: dict[str, dict[str, Fields] | None] = {}  # last successful answer
        self.ever_served: dict[str, set[str]] = {}
        self.counter = 0

    # -- the world changes ---------------------------------------------------------------------

    def evolve(self, topic: str, now: datetime, step: timedelta) -> None:
        """Let time pass: maybe a change, maybe an outage (shared by every topic)."""
        self.now = now
        if topic not in self.records:
            self._start(topic)
        days = step / timedelta(days=1)
        if self.rng.random() < EVENT_RATES[self.source] * days:
            self._change(topic)
        if self.events:  # now and then a feed shows an old item again
            old = [k for k in self.ever_served[topic] if k not in self.window[topic]]
            pick = old and self.rng.random() < 0.3 * days
            self.resurfaced[topic] = self.rng.choice(sorted(old)) if pick else None

    def maybe_outage(self, now: datetime, step: timedelta) -> None:
        if self.outage_until is None or now >= self.outage_until:
            self.outage_until = None
            if self.rng.random() < 0.15 * (step / timedelta(days=1)):  # about one a week
                self.outage_until = now + timedelta(hours=self.rng.uniform(1, 10))

    def _start(self, topic: str) -> None:
        self.records[topic], self.gone[topic], self.window[topic] = {}, set(), []
        self.served[topic], self.ever_served[topic] = None, set()
        for _ in range(self.window_size if self.events else self.rng.randint(3, 12)):
            self._add(topic)

    def _add(self, topic: str) -> None:
        self.counter += 1
        key = f"{self.source}-{topic}-{self.counter}"
        if self.events:
            self.window[topic] = [key, *self.window[topic]][: self.window_size]
            self.truth.arrivals.append(self.now)
            return
        self.records[topic][key] = {
            "overall_status": self.rng.choice(_STATUSES),
            "enrollment": f"{self.rng.randint(20, 400)} (estimated)",
            "last_update_posted": self.now.date().isoformat(),
        }

    def _change(self, topic: str) -> None:
        records = self.records[topic]
        roll = self.rng.random()
        if self.events or roll < 0.25 or not records:
            self._add(topic)
        elif roll < 0.3 and self.source == "clinicaltrials":
            key = self.rng.choice(sorted(records))
            self.gone[topic].add(key)
            del records[key]
        else:
            fields = records[self.rng.choice(sorted(records))]
            name = self.rng.choice(["overall_status", "enrollment", "last_update_posted"])
            fields[name] = f"{fields[name]}+" if name != "overall_status" else _next(fields[name])
            fields["last_update_posted"] = self.now.date().isoformat()

    # -- the Watcher protocol --------------------------------------------------------------------

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """What the source shows now, or a FetchError/ParseError (5 % of polls, and outages)."""
        name, pair = topic.name, (topic.name, self.source)
        self.truth.polls += 1
        if self.outage_until is not None or self.rng.random() < self.fail_rate:
            self.truth.failed(pair)
            if self.rng.random() < 0.5:
                raise FetchError(f"{self.source} answered HTTP 503 after 3 attempts")
            raise ParseError(f"{self.source}: expected JSON, got text/html")
        self.truth.succeeded(pair)
        current = self._current(name)
        self._record_truth(name, current)
        observations = tuple(self._observation(name, k, f) for k, f in current.items())
        return SourceResult(self.source, name, observations, gone=frozenset(self.gone[name]))

    def _current(self, topic: str) -> dict[str, Fields]:
        if not self.events:
            return {key: dict(fields) for key, fields in self.records[topic].items()}
        keys = list(self.window[topic])
        if (old := self.resurfaced.get(topic)) is not None:
            keys.append(old)
        return {key: {} for key in keys}

    def _record_truth(self, topic: str, current: dict[str, Fields]) -> None:
        previous, seen = self.served[topic], self.ever_served[topic]
        self.served[topic] = current
        fresh = [key for key in current if key not in seen]
        seen.update(current)
        if previous is None:  # the first successful answer is a silent baseline
            return
        for key in fresh:
            self.truth.items[Expected(topic, self.source, key, "new")] += 1
        for key, fields in current.items():
            before = previous.get(key)
            if before is None or key in fresh:
                continue
            changed = tuple(
                (name, before.get(name), fields.get(name))
                for name in sorted(set(before) | set(fields))
                if name not in BOOKKEEPING_FIELDS and before.get(name) != fields.get(name)
            )
            if changed:
                self.truth.items[Expected(topic, self.source, key, "updated", changed)] += 1
        for key in sorted(self.gone.get(topic, ())):
            if key in previous:
                self.truth.items[Expected(topic, self.source, key, "removed")] += 1

    def _observation(self, topic: str, key: str, fields: Fields) -> Observation:
        # Titles share no word but "item" and the topic's names: never read as one story.
        number = key.rsplit("-", 1)[-1]
        title = f"{topic} item {number}" if self.events else f"Study {number}"
        published = self.now if self.events else None
        return Observation(
            self.source, key, topic, title, f"https://soak.test/{key}", fields, published
        )


def _next(status: str | None) -> str:
    return _STATUSES[(_STATUSES.index(status) + 1) % len(_STATUSES)] if status else _STATUSES[0]


def make_sources(
    rng: random.Random, truth: Truth, fail_rate: float, window: int = WINDOW
) -> list[FakeSource]:
    """One fake per source kind the bot polls."""
    return [
        FakeSource(name, rng, truth, fail_rate, name not in ("clinicaltrials", "openfda"), window)
        for name in INTERVALS
    ]
