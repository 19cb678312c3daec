"""A poll's route, scheduler -> outbox, enters few enough files to follow by reading.

Every file entered is either one of the route's STEPS (what a reader follows from the scheduler
to the outbox) or the shared VOCABULARY those steps call into (types and pure conversions, read
once and known everywhere). A file that is neither fails the test until someone classifies it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import bot.app
from bot.app import open_app
from tests.bot.service_helpers import loaded_config
from tests.factories import T0, Clock, result, trial
from tests.state.helpers import pending_alerts
from watchers.model import SourceResult, Topic

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "state", "watchers")
SPEC = "watchers/ctgov/spec.py"  # the source's own spec: read by the route, not part of it
# The steps, in the order a reader meets them (issue 24: at most 10), each with its job.
STEPS = {
    "bot/app.py": "App.poll_source: the scheduler's call, the watcher as the app wrapped it",
    "bot/polling/fetch.py": "the wrappers (stop, redaction, deadline) and the fetch threads",
    "bot/polling/pipeline.py": "poll_once: lease -> watcher.poll -> store.apply_poll",
    "state/store.py": "Store: its poll leases, its routes, apply_poll",
    "state/poll/leases.py": "the lease taken with the poll meta, renewed while fetching",
    "state/poll/__init__.py": "apply_poll: load -> diff -> enrich -> write, one transaction",
    "state/poll/load.py": "the load step: state + snapshot, then the evidence for enrich",
    "state/poll/diff.py": "the diff step: changes against the snapshot",
    "state/poll/enrich.py": "the enrich step: date moves, stories folded, claims labelled",
    "state/poll/write.py": "the write step: snapshot, alerts and deliveries by route, health",
}
# What the steps call into without being a step: the values and pure conversions they share
# (all but snapshot.py also used by the reads of stored state).
VOCABULARY = {
    "watchers/model.py": "Observation, SourceResult: the values every layer passes",
    "watchers/spec.py": "SourceSpec: what a source is (folding, evidence, severity rules)",
    "watchers/registry.py": "a source id -> its spec",
    "state/codec.py": "rows <-> value types, shared by every read of stored state",
    "state/fields.py": "field words and severity from the specs (alerts, status, digest)",
    "state/compliance.py": "the results clock (also status and the calendar)",
    "state/timeline.py": "date moves and status changes (also status, calendar, dashboard)",
    "state/poll/snapshot.py": "Snapshot: the value load reads, diff compares, write stores",
}
MOST_STEPS = 10  # issue 24: "a poll's route (scheduler -> outbox) enters at most 10 files"
MOST_FILES = 18  # steps + vocabulary; 24 before the merges that closed issue 24


def project_file(frame: FrameType | None) -> str | None:
    """The frame's file relative to the repo when it is production code, else None."""
    if frame is None:
        return None
    try:
        relative = Path(frame.f_code.co_filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    name = relative.as_posix()
    return name if relative.parts[0] in PACKAGES and name != SPEC else None


class FakeWatcher:
    """ClinicalTrials.gov answering FUSION, completed from the second poll on; it notes the
    files its own thread went through to reach it (the fetch runs in a reused thread)."""

    source = "clinicaltrials"

    def __init__(self) -> None:
        self.polls = 0
        self.stack: list[str] = []

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        self.polls += 1
        frame, self.stack = sys._getframe(1), []
        while frame is not None:
            if (name := project_file(frame)) is not None and name not in self.stack:
                self.stack.insert(0, name)
            frame = frame.f_back
        status = "ACTIVE_NOT_RECRUITING" if self.polls == 1 else "COMPLETED"
        return result(trial(topic=topic.name, overall_status=status))


def test_one_poll_from_the_scheduler_to_the_outbox_enters_few_files(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """Counted: each distinct file under bot/, state/ or watchers/ in which a function is
    called while `App.poll_source` polls one topic that changed since its baseline poll (the
    app built by `open_app`, so with its production wrappers), in the polling thread and in
    the fetch thread that reaches the watcher. Not counted: this test's fake watcher, the
    source's spec (watchers/ctgov/spec.py) and the delivery loop (the outbox's other side:
    the app has no destination loop here); the alert reaching the outbox is checked. Each file
    entered must be a listed step or vocabulary, and each listed file must be entered."""
    fake = FakeWatcher()
    monkeypatch.setattr(bot.app, "build_watchers", lambda *_, **__: [fake])
    clock = Clock(T0)
    config = loaded_config(db_url, sources={"clinicaltrials": {}})
    with open_app(config, clock=clock, write=lambda _: None) as app:
        app.topics, app.deliverers = app.topics[:1], []
        app.poll_source("clinicaltrials")  # the silent baseline
        clock.advance(days=1)
        entered: list[str] = []

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            if event == "call" and (name := project_file(frame)) and name not in entered:
                entered.append(name)

        sys.setprofile(profile)
        try:
            app.poll_source("clinicaltrials")
        finally:
            sys.setprofile(None)
        [alert] = pending_alerts(app.store.outbox, "console")
    assert alert.change.key == "NCT04768972"
    route = entered + [name for name in fake.stack if name not in entered]
    unclassified = [name for name in route if name not in STEPS and name not in VOCABULARY]
    assert unclassified == [], f"entered, neither a step nor vocabulary: {unclassified}"
    steps = [name for name in route if name in STEPS]
    assert len(steps) <= MOST_STEPS, f"{len(steps)} steps: {steps}"
    assert len(route) <= MOST_FILES, f"{len(route)} files: {route}"
    # The lists stay the truth: a file listed but no longer entered is taken off them.
    assert sorted(route) == sorted({*STEPS, *VOCABULARY})
