"""Builders shared by the /status, server and service tests: config, stored state, signing."""

from __future__ import annotations

import random
import socket
from datetime import timedelta
from typing import Any

from slack_sdk.signature import Clock, SignatureVerifier

from bot.config import LoadedConfig, Secrets, Settings
from state.store import Store
from tests.factories import T0, result, trial
from tests.state.helpers import routed

TOPICS: list[dict[str, Any]] = [
    {
        "name": "ulefnersen",
        "aliases": ["jacifusen", "ION363", "ION-363"],
        "trials": ["NCT04768972"],
        "conditions": ["FUS-ALS"],
    },
    {"name": "tofersen", "aliases": ["Qalsody", "BIIB067"], "trials": ["NCT02623699"]},
]


def loaded_config(db_url: str, **sections: Any) -> LoadedConfig:
    """A validated config over `db_url` with the two test topics (sources off unless given)."""
    raw: dict[str, Any] = {"storage": {"url": db_url}, "topics": TOPICS, **sections}
    return LoadedConfig(
        settings=Settings.model_validate(raw), secrets=Secrets(), source="test config"
    )


def seed_ulefnersen(store: Store) -> None:
    """Baseline FUSION, then it completes (one high alert); the source answered both times."""
    console = {"console": None}
    routed(store, console).apply_poll(result(trial()), started=T0, at=T0)
    later = T0 + timedelta(days=1)
    routed(store, console).apply_poll(
        result(trial(overall_status="COMPLETED")), started=later, at=later
    )


class FrozenClock(Clock):
    """slack-sdk's verifier clock, stopped at one unix time."""

    def __init__(self, now: float) -> None:
        self.frozen = now

    def now(self) -> float:
        return self.frozen


def sign(secret: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers Slack would send with `body` at `timestamp`."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


# Below Linux's ephemeral range (32768-60999): a server binding port 0, in this suite's other
# workers or in any other process, is never given one of these between our check and our use.
_PORTS = range(20000, 32768)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    for _ in range(200):
        port = random.choice(_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port on 127.0.0.1 between 20000 and 32767")
