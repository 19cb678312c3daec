"""The JSON API: every answer valid against its own OpenAPI document, filters and cursor
pages that neither repeat nor skip, the dashboard's token rule, and no traceback on failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import create_engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.read.api import ReadApi
from bot.read.openapi import OPENAPI, schema_of
from bot.service.bearer_gate import BearerGate
from state.status import StoredState
from state.store import Store
from tests.bot.read.world import TOPIC, seed_world
from tests.factories import T0, Clock

NOW = T0 + timedelta(days=4)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed_world(s, extra=30)
    yield s
    s.close()


def client(store: StoredState, host: str = "127.0.0.1", token: str | None = None) -> TestClient:
    api = ReadApi(store, [TOPIC], Clock(NOW), BearerGate(host=host, token=token))
    return TestClient(Starlette(routes=api.routes()), raise_server_exceptions=False)


def valid(answer: Any, schema: str) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    jsonschema.validate(body, schema_of(schema), cls=jsonschema.Draft202012Validator)
    return body


def test_every_answer_matches_the_openapi_document(store: Store) -> None:
    http = client(store)
    jsonschema.Draft202012Validator.check_schema(schema_of("Status"))
    assert http.get("/api/v1/openapi.json").json() == OPENAPI
    topics = valid(http.get("/api/v1/topics"), "Topics")
    assert [t["name"] for t in topics["topics"]] == ["ulefnersen"]
    assert topics["refreshed_at"] is not None  # when a source last answered
    status = valid(http.get("/api/v1/topics/ION363"), "Status")  # an alias resolves
    assert status["alert_count"] == 32 and len(status["alerts"]) == 5
    assert all(a["severity"] == "high" for a in status["alerts"])  # important first
    trial = valid(http.get("/api/v1/trials/NCT04768972"), "TrialAnswer")["trial"]
    assert trial["versions"] == 4 and any("moved" in line for line in trial["timeline"])
    assert valid(http.get("/api/v1/trials/NCT00000000"), "Error")["error"]
    missing = http.get("/api/v1/topics/nope/alerts")
    assert missing.status_code == 404 and valid(missing, "Error")


def test_alert_pages_walk_every_filtered_alert_newest_first_once(store: Store) -> None:
    http = client(store)
    seen: list[int] = []
    cursor = ""
    while True:
        page = valid(
            http.get(
                "/api/v1/topics/ulefnersen/alerts",
                params={"severity": "high", "limit": "3", "cursor": cursor},
            ),
            "Alerts",
        )
        assert page["total"] == 8  # every 4th of 30, and the 3 filtered, honest count
        seen += [a["id"] for a in page["alerts"]]
        assert all(a["severity"] == "high" for a in page["alerts"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == 8 and seen == sorted(set(seen), reverse=True)
    one = valid(http.get("/api/v1/topics/ulefnersen/alerts", params={"trial": "pmid4"}), "Alerts")
    assert [a["record"] for a in one["alerts"]] == ["PMID4"]
    recent = http.get(
        "/api/v1/topics/ulefnersen/alerts", params={"since": "1d", "source": "medrxiv"}
    )
    assert valid(recent, "Alerts")["total"] == 22  # the bulk ones are within a day of NOW
    bad = http.get("/api/v1/topics/ulefnersen/alerts", params={"since": "last tuesday"})
    assert bad.status_code == 400 and "7d" in valid(bad, "Error")["error"]


def test_the_dashboard_token_rule_guards_the_api(store: Store) -> None:
    assert client(store, "0.0.0.0").get("/api/v1/topics").status_code == 503
    guarded = client(store, "0.0.0.0", "s3cret-token")
    refused = guarded.get("/api/v1/topics", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and "s3cret" not in refused.text
    assert refused.headers["www-authenticate"] == "Bearer"
    ok = guarded.get("/api/v1/topics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200


def test_a_failing_store_answers_one_plain_sentence() -> None:
    # Nothing listens on port 1: the driver's error names the host, user and more.
    broken = StoredState(create_engine("postgresql+psycopg://ana:hunter2@127.0.0.1:1/tw"))
    answer = client(broken).get("/api/v1/topics/ulefnersen/alerts")
    assert answer.status_code == 503
    assert valid(answer, "Error")["error"].startswith("trialwatch could not read its database")
    assert "Traceback" not in answer.text and "hunter2" not in answer.text
    assert "127.0.0.1" not in answer.text and "ana" not in answer.text
