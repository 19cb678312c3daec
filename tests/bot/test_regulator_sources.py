"""openFDA and EMA medicines are built from their config sections, with keys and intervals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.config import Secrets, Settings
from bot.polling.sources import build_watchers, source_intervals
from watchers.model import Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parent.parent / "fixtures"
TOPIC = Topic("tofersen")
MIRROR = "https://mirror.example.org/ema/medicines.json"


def settings(**sources: Any) -> Settings:
    return Settings.model_validate({"topics": [{"name": "tofersen"}], "sources": sources})


@pytest.fixture
def http() -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=0, sleep=lambda _s: None)


SECTIONS = {
    "both present": ({"openfda": {}, "ema_medicines": {}}, ["openfda", "ema_medicines"]),
    "absent means off": ({}, []),
    "disabled": (
        {"openfda": {"enabled": False}, "ema_medicines": {"enabled": False}},
        [],
    ),
}


@pytest.mark.parametrize(("sources", "expected"), SECTIONS.values(), ids=SECTIONS.keys())
def test_sections_decide_which_regulator_watchers_run(
    http: Http, sources: dict[str, Any], expected: list[str]
) -> None:
    watchers = build_watchers(settings(**sources), Secrets(), http)
    assert [w.source for w in watchers] == expected


def test_openfda_uses_the_configured_base_url_and_the_env_key(http: Http) -> None:
    body = json.loads((FIXTURES / "openfda" / "openfda_drugsfda_qalsody.json").read_text("utf-8"))
    config = settings(openfda={"base_url": "https://fda.example.org/"})
    [watcher] = build_watchers(config, Secrets.from_env({"OPENFDA_API_KEY": "k-123456"}), http)
    with respx.mock() as router:
        route = router.get("https://fda.example.org/drug/drugsfda.json").respond(200, json=body)
        assert len(watcher.poll(TOPIC, {}).observations) == 1
    assert route.calls.last.request.url.params["api_key"] == "k-123456"


def test_ema_uses_the_configured_url(http: Http) -> None:
    body = (FIXTURES / "ema" / "ema_medicines_json_report.json").read_bytes()
    [watcher] = build_watchers(settings(ema_medicines={"url": MIRROR}), Secrets(), http)
    with respx.mock() as router:
        router.get(MIRROR).respond(200, content=body)
        assert [o.key for o in watcher.poll(TOPIC, {}).observations] == ["EMEA/H/C/005493"]


def test_regulator_intervals_default_to_six_hours_and_follow_config() -> None:
    defaults = source_intervals(settings(openfda={}, ema_medicines={}))
    assert (defaults["openfda"], defaults["ema_medicines"]) == (6 * 3600.0, 6 * 3600.0)
    custom = source_intervals(
        settings(openfda={"interval": "12h"}, ema_medicines={"interval": "2h"})
    )
    assert (custom["openfda"], custom["ema_medicines"]) == (12 * 3600.0, 2 * 3600.0)
