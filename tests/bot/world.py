"""A small world for the crash and multi-process tests: config, registry, database, driver runs."""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from state.schema import AlertRow, DeliveryRow
from state.store import Store
from tests.factories import T0
from tests.fakes import driver
from tests.fakes.forked import Forked
from tests.fakes.slack_api import FakeSlack

REPO = Path(__file__).resolve().parents[2]
STUDY = json.loads((REPO / "tests" / "fixtures" / "ctgov" / "ctgov_study.json").read_text())
DEFAULT_CHANNEL = "#trial-alerts"


def study(nct: str, status: str) -> dict[str, Any]:
    """The FUSION fixture re-labelled as `nct`, with `status`."""
    doc = copy.deepcopy(STUDY)
    doc["protocolSection"]["identificationModule"]["nctId"] = nct
    doc["protocolSection"]["identificationModule"]["briefTitle"] = f"Trial {nct}"
    doc["protocolSection"]["statusModule"]["overallStatus"] = status
    return doc


class World:
    """Topics (one trial each), the registry they see, the database and the fake Slack."""

    def __init__(
        self, tmp_path: Path, db_url: str, slack: FakeSlack, topics: dict[str, str | None]
    ) -> None:
        self.tmp_path, self.db_url, self.slack = tmp_path, db_url, slack
        self.trials = {name: f"NCT{9000000 + i:08d}" for i, name in enumerate(topics)}
        self.statuses = dict.fromkeys(self.trials.values(), "ACTIVE_NOT_RECRUITING")
        self.stamp = 0
        self.now = T0
        slack.now = lambda: self.now.timestamp()  # Slack's ts follow the injected clock
        self.config = tmp_path / "trialwatch.toml"
        parts = [f'[storage]\nurl = "{db_url}"\n']
        for name, channel in topics.items():
            parts.append(f'[[topics]]\nname = "{name}"\ntrials = ["{self.trials[name]}"]\n')
            if channel:
                parts.append(f'slack_channel = "{channel}"\n')
        parts.append(
            f'[sources.clinicaltrials]\nbase_url = "{driver.CTGOV}"\n'
            f'[slack]\napi_url = "{slack.base_url}"\nchannel = "{DEFAULT_CHANNEL}"\n'
            "[http]\nmin_interval = 0.001\nmax_retries = 0\nbackoff = 0.001\n"
        )
        self.config.write_text("".join(parts))
        # The schema exists before any process starts, as after a deployment's migration.
        Store.open(db_url).close()

    def change(self, *topics: str, status: str) -> None:
        """The registry now shows `status` for these topics' trials (and a new data stamp)."""
        for name in topics:
            self.statuses[self.trials[name]] = status
        self.stamp += 1

    def state(self, **extra: Any) -> dict[str, Any]:
        studies = {nct: study(nct, status) for nct, status in self.statuses.items()}
        registry = {"stamp": f"2026-11-01T09:00:{self.stamp:02d}", "studies": studies}
        return {"now": self.now.isoformat(), "registry": registry, **extra}

    def at(self, now: datetime) -> World:
        self.now = now
        return self

    def later(self, **delta: float) -> World:
        return self.at(self.now + timedelta(**delta))

    def run(self) -> dict[str, Any]:
        """One cycle in this process (a restart is a fresh App on the same database)."""
        return driver.run(str(self.config), self.state())

    def state_file(self, name: str, **extra: Any) -> Path:
        path = self.tmp_path / f"{name}.json"
        path.write_text(json.dumps(self.state(**extra)))
        return path

    def spawn(self, name: str, **extra: Any) -> Forked:
        """A real process running one cycle (see tests/fakes/driver.py), forked ready-imported."""
        return Forked(
            "tests.fakes.driver:main",
            str(self.config),
            str(self.state_file(name, **extra)),
            cwd=REPO,
            env=dict(os.environ),
        )

    def alerts(self) -> dict[int, str]:
        """Every stored alert id with its key (trial)."""
        store = Store.open(self.db_url)
        try:
            with Session(store.engine) as session:
                return {r.id: r.key for r in session.exec(select(AlertRow)).all() if r.id}
        finally:
            store.close()

    def delivery_states(self) -> list[str]:
        store = Store.open(self.db_url)
        try:
            with Session(store.engine) as session:
                return [r.state for r in session.exec(select(DeliveryRow)).all()]
        finally:
            store.close()

    def snapshot_statuses(self) -> dict[str, Any]:
        store = Store.open(self.db_url)
        try:
            return {
                nct: stored.observation.fields.get("overall_status")
                for name, nct in self.trials.items()
                for key, stored in store.snapshot(name, "clinicaltrials").items()
                if key == nct
            }
        finally:
            store.close()
