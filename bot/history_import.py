"""Import each watched trial's registry history, silently and apart from the live poll.

Runs after a `check` has delivered its alerts and from the service's housekeeping job, so a
slow or failing history API never fails or delays a poll. Each trial is one attempt: versions
stored before a failure stay, and the next run fetches only the ones still missing.

A history API that is down must not cost one failed request (and one warning) per listed
trial on every run: a run stops after FAILURES_IN_A_ROW trials failed one after another, and
each run starts with the trials that failed least, so the ones left over get their turn next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from state.history import RegistryHistory
from state.store import Store
from watchers.ctgov_history import HistoryClient
from watchers.model import SourceError, Topic
from watchers.registry import history_registries

__all__ = ["HistoryImport", "ImportOutcome", "history_trials"]

log = logging.getLogger(__name__)

# After this many trials failed one after another, the API is down for now: stop this run.
FAILURES_IN_A_ROW = 3


@dataclass(frozen=True)
class ImportOutcome:
    """One trial's import: versions added, or the error that stopped it."""

    nct: str
    added: int = 0
    skipped: bool = False  # nothing new since the last complete import
    error: str | None = None


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
        self, client: HistoryClient, history: RegistryHistory, clock: Callable[[], datetime]
    ) -> None:
        self._client, self._history, self._clock = client, history, clock

    def run(self, topics: Iterable[Topic], store: Store) -> list[ImportOutcome]:
        """Import every topic's trials once; never raises for a source failure."""
        wanted: dict[str, str | None] = {}
        for topic in topics:
            for nct, update in history_trials(topic, store).items():
                wanted.setdefault(nct, update)
        outcomes: list[ImportOutcome] = []
        failed = 0
        order = self._least_failed_first(wanted)
        for done, nct in enumerate(order, start=1):
            outcome = self.import_trial(nct, wanted[nct])
            outcomes.append(outcome)
            failed = failed + 1 if outcome.error else 0
            if failed >= FAILURES_IN_A_ROW and done < len(order):
                log.warning(
                    "registry history import paused: %d trials failed in a row (last: %s); "
                    "the other %d wait for the next run",
                    failed,
                    outcome.error,
                    len(order) - done,
                )
                break
        return outcomes

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
        added = 0
        try:
            known = self._history.known_versions(nct)
            for entry in self._client.versions(nct):
                if entry.version not in known:
                    self._history.add(self._client.version(nct, entry), at=self._clock())
                    added += 1
        except SourceError as error:
            return self._failed(nct, added, str(error))
        except Exception as error:  # an undocumented API: whatever it does, the poll goes on
            log.exception("registry history import of %s failed unexpectedly", nct)
            return self._failed(nct, added, f"unexpected {type(error).__name__}: {error}")
        self._history.record_success(nct, at=self._clock(), caught_up_with=update)
        return ImportOutcome(nct, added=added)

    def _failed(self, nct: str, added: int, error: str) -> ImportOutcome:
        log.warning("registry history import of %s failed: %s", nct, error)
        self._history.record_failure(nct, at=self._clock(), error=error)
        return ImportOutcome(nct, added=added, error=error)
