"""Import each watched trial's registry history, silently and apart from the live poll.

Runs after a `check` has delivered its alerts and from the service's housekeeping job, so a
slow or failing history API never fails or delays a poll. Each trial is one attempt: versions
stored before a failure stay, and the next run fetches only the ones still missing.

A history API that is down must not cost one failed request (and one warning) per listed
trial on every run: a run stops after FAILURES_IN_A_ROW trials failed one after another, and
each run starts with the trials that failed least, so the ones left over get their turn next.

A run is bounded (ImportLimits): one deadline for the run and one per request (Http's poll
budget; the run itself in a fetch thread the caller stops waiting for, as DeadlineWatcher
does), at most `max_versions` versions fetched per trial (the rest next run) and a version
list no longer than `max_listed`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.polling.fetch import FETCH_THREADS
from state.history import RegistryHistory
from state.store import Store
from watchers.ctgov.history import HistoryClient
from watchers.model import SourceError, Topic
from watchers.registry import history_registries

__all__ = ["HistoryImport", "ImportLimits", "ImportOutcome", "history_trials"]

log = logging.getLogger(__name__)

# After this many trials failed one after another, the API is down for now: stop this run.
FAILURES_IN_A_ROW = 3


@dataclass(frozen=True)
class ImportLimits:
    """How much one run may take; the defaults finish a default `check` within a minute."""

    deadline: float = 60.0  # seconds for the whole run
    request_deadline: float = 20.0  # seconds for one request, retries included
    max_versions: int = 20  # versions fetched per trial per run
    max_listed: int = 1000  # a longer version list is refused


@dataclass(frozen=True)
class ImportOutcome:
    """One trial's import: versions added, or the error that stopped it."""

    nct: str
    added: int = 0
    skipped: bool = False  # nothing new since the last complete import
    error: str | None = None
    left: int = 0  # versions still missing, for the next run (the per-run cap)


def history_trials(topic: Topic, store: Store) -> dict[str, str | None]:
    """The trials whose history a topic wants, with their live last-update date (if seen).

    The trials the topic lists, and those its searches found by one of its names; trials
    found only by a condition are left out (a condition search can find hundreds). Only
    records of a source whose spec has a history, with an id that history knows.
    """
    names = {name.casefold() for name in topic.names}
    wanted: dict[str, str | None] = dict.fromkeys(topic.trials)
    for registry, history in history_registries().items():
        for key, stored in store.snapshot(topic.name, registry).items():
            alias = (stored.observation.matched_alias or "").casefold()
            if history.record_id(key) == key and (key in wanted or alias in names):
                update = stored.observation.fields.get("last_update_posted")
                wanted[key] = update if isinstance(update, str) else None
    return wanted


class HistoryImport:
    """Fetches versions a trial's stored history lacks; records its own health per trial."""

    def __init__(
        self,
        client: HistoryClient,
        history: RegistryHistory,
        clock: Callable[[], datetime],
        limits: ImportLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._history, self._clock = client, history, clock
        self._limits = limits or ImportLimits()
        self._monotonic = monotonic
        self._stop = threading.Event()  # set once this run is out of time
        self._ends = math.inf  # the run's deadline, on `monotonic`

    def run(self, topics: Iterable[Topic], store: Store) -> list[ImportOutcome]:
        """Import every topic's trials once, within the run's deadline; never raises for a
        source failure. Past the deadline it returns what was done; the rest waits."""
        wanted: dict[str, str | None] = {}
        for topic in topics:
            for nct, update in history_trials(topic, store).items():
                wanted.setdefault(nct, update)
        outcomes: list[ImportOutcome] = []
        seconds = self._limits.deadline
        self._stop = stop = threading.Event()

        def work() -> None:
            with self._client.deadline(seconds):
                self._import_all(wanted, outcomes)

        # What Http cannot interrupt (a trickled status line) is bounded by walking away.
        running = FETCH_THREADS.run(work, "registry history import")
        if running.wait(seconds + min(2.0, max(0.05, seconds * 0.05))):
            running.result()
        else:
            stop.set()
        if stop.is_set():
            log.warning(
                "registry history import stopped at its deadline of %g s after %d trial(s); "
                "the other %d wait for the next run",
                seconds,
                len(outcomes),
                len(wanted) - len(outcomes),
            )
        return list(outcomes)

    def _out_of_time(self) -> bool:
        if self._monotonic() >= self._ends:
            self._stop.set()
        return self._stop.is_set()

    def _import_all(self, wanted: dict[str, str | None], outcomes: list[ImportOutcome]) -> None:
        self._ends = self._monotonic() + self._limits.deadline
        failed = 0
        order = self._least_failed_first(wanted)
        for done, nct in enumerate(order, start=1):
            if self._out_of_time():
                return
            outcomes.append(self.import_trial(nct, wanted[nct]))
            if self._out_of_time():  # cut short by the run's deadline: the rest next run
                return
            outcome = outcomes[-1]
            failed = failed + 1 if outcome.error else 0
            if failed >= FAILURES_IN_A_ROW and done < len(order):
                log.warning(
                    "registry history import paused: %d trials failed in a row (last: %s); "
                    "the other %d wait for the next run",
                    failed,
                    outcome.error,
                    len(order) - done,
                )
                return

    def _least_failed_first(self, wanted: dict[str, str | None]) -> list[str]:
        """Trials never failing first, then those failing longest ago: everyone gets a turn."""
        health = {h.nct: h for h in self._history.health(wanted)}

        def key(nct: str) -> tuple[int, float]:
            seen = health.get(nct)
            if seen is None or not seen.consecutive_failures:
                return (0, 0.0)
            tried = seen.last_attempt.timestamp() if seen.last_attempt else 0.0
            return (seen.consecutive_failures, tried)

        return sorted(wanted, key=key)

    def import_trial(self, nct: str, update: str | None) -> ImportOutcome:
        """One trial: read the version list when the record changed since, fetch what is new."""
        if update is not None and self._history.caught_up_with(nct) == update:
            return ImportOutcome(nct, skipped=True)
        added, limits = 0, self._limits
        try:
            known = self._history.known_versions(nct)
            with self._client.deadline(limits.request_deadline):
                listed = self._client.versions(nct, limits.max_listed)
            missing = [entry for entry in listed if entry.version not in known]
            for entry in missing[: limits.max_versions]:
                with self._client.deadline(limits.request_deadline):
                    version = self._client.version(nct, entry)
                if self._out_of_time():
                    return ImportOutcome(nct, added=added)
                self._history.add(version, at=self._clock())
                added += 1
        except SourceError as error:
            return self._failed(nct, added, str(error))
        except Exception as error:  # an undocumented API: whatever it does, the poll goes on
            log.exception("registry history import of %s failed unexpectedly", nct)
            return self._failed(nct, added, f"unexpected {type(error).__name__}: {error}")
        left = len(missing) - added
        # Not caught up while versions are left: the next run reads the list again.
        self._history.record_success(nct, at=self._clock(), caught_up_with=None if left else update)
        return ImportOutcome(nct, added=added, left=left)

    def _failed(self, nct: str, added: int, error: str) -> ImportOutcome:
        if self._out_of_time():  # the run's deadline, not this trial's failure
            return ImportOutcome(nct, added=added)
        log.warning("registry history import of %s failed: %s", nct, error)
        self._history.record_failure(nct, at=self._clock(), error=error)
        return ImportOutcome(nct, added=added, error=error)
