"""`trialwatch mcp`: the SDK's own client lists the four tools and calls each; answers come
from stored state, bad input is a tool error (not a crash), and nothing is written."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from sqlalchemy import func, select

from bot.read.mcp_server import build_mcp_server
from state.schema import alert
from state.store import Store
from tests.bot.read.world import TOPIC, seed_world
from tests.factories import T0, Clock


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed_world(s, extra=12)
    yield s
    s.close()


def _json(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    body: dict[str, Any] = json.loads(result.content[0].text)
    return body


def test_an_sdk_client_lists_and_calls_every_tool(store: Store) -> None:
    server = build_mcp_server(store, [TOPIC], Clock(T0 + timedelta(days=4)))
    with store.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(alert)).scalar_one()

    async def session() -> dict[str, Any]:
        async with Client(server) as client:
            tools = await client.list_tools()
            answers: dict[str, Any] = {"tools": sorted(t.name for t in tools.tools)}
            answers["status"] = _json(await client.call_tool("topic_status", {"topic": "ION363"}))
            answers["alerts"] = _json(
                await client.call_tool(
                    "list_alerts", {"topic": "ulefnersen", "severity": "high", "limit": 2}
                )
            )
            answers["trial"] = _json(
                await client.call_tool("trial_timeline", {"trial": "NCT04768972"})
            )
            answers["search"] = _json(await client.call_tool("search_alerts", {"words": "HALTED"}))
            answers["bad"] = await client.call_tool(
                "list_alerts", {"topic": "ulefnersen", "since": "soon"}
            )
            return answers

    answers = anyio.run(session)
    assert answers["tools"] == ["list_alerts", "search_alerts", "topic_status", "trial_timeline"]
    assert answers["status"]["topic"]["name"] == "ulefnersen" and answers["status"]["refreshed_at"]
    assert answers["alerts"]["total"] == 3 and answers["alerts"]["next_cursor"] is not None
    assert answers["trial"]["trial"]["versions"] == 4
    assert answers["search"]["total"] == 12  # case-insensitive, any topic
    assert answers["bad"].is_error and "7d" in answers["bad"].content[0].text
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(alert)).scalar_one() == before


def test_trialwatch_mcp_answers_a_stdio_client(tmp_path: Path, db_url: str) -> None:
    store = Store.open(db_url)
    seed_world(store, extra=0)
    store.close()
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{db_url}"\n[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\n'
    )
    command = Path(sys.executable).with_name("trialwatch")
    params = StdioServerParameters(command=str(command), args=["mcp", "--config", str(config)])

    async def session() -> dict[str, Any]:
        async with Client(params) as client:
            return _json(await client.call_tool("topic_status", {"topic": "ulefnersen"}))

    status = anyio.run(session)
    assert status["alert_count"] == 2 and status["trials"][0]["id"] == "NCT04768972"
