"""`trialwatch mcp`: a read-only MCP server on stdio (the official SDK's MCPServer).

Its tools answer from stored state only, through the JSON API's reads (bot/read/api.py): they
never fetch a source and never write. The store is opened without applying migrations, so
even an out-of-date database is refused rather than changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from bot.config import LoadedConfig
from bot.read.api import NotFound, ReadApi
from bot.read.filters import FilterError
from bot.read_only import utc_now
from bot.service.bearer_gate import BearerGate
from bot.topics import topics_from_settings
from state.status import StoredState
from watchers.model import Topic

__all__ = ["build_mcp_server", "serve_stdio"]

_INSTRUCTIONS = (
    "trialwatch's stored state for watched drug programmes: trials, registry timelines and "
    "alerts from registries, regulators and news. Read-only; data is as fresh as refreshed_at."
)


def build_mcp_server(
    store: StoredState, topics: list[Topic], clock: Callable[[], datetime]
) -> MCPServer[Any]:
    """The server with its four tools, each a read of `store`."""
    api = ReadApi(store, topics, clock, BearerGate(host="127.0.0.1", token=None))
    server: MCPServer[Any] = MCPServer("trialwatch", instructions=_INSTRUCTIONS)

    def answer(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return read()
        except (FilterError, NotFound) as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def topic_status(topic: str) -> dict[str, Any]:
        """A topic's trials, its most important alerts, how many alerts in all, source health.
        `topic`: a topic name, alias or trial id."""
        return answer(lambda: api.status(topic))

    @server.tool()
    def list_alerts(
        topic: str,
        since: str | None = None,
        severity: str | None = None,
        source: str | None = None,
        trial: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
    ) -> dict[str, Any]:
        """A topic's alerts, newest first. since: 7d, 24h or an ISO date; severity: high,
        normal or low (that or louder); cursor: next_cursor of the previous call."""
        query = {"since": since, "severity": severity, "source": source, "trial": trial}
        return answer(lambda: api.alerts(topic, {**query, "cursor": cursor, "limit": str(limit)}))

    @server.tool()
    def trial_timeline(trial: str) -> dict[str, Any]:
        """One trial's key facts and its registry timeline (status changes, date moves)."""
        return answer(lambda: api.trial(trial))

    @server.tool()
    def search_alerts(
        words: str, topic: str | None = None, since: str | None = None, limit: int = 20
    ) -> dict[str, Any]:
        """Alerts whose title, excerpt or detail contain `words` (any topic unless given)."""
        query = {"text": words, "since": since, "limit": str(limit)}
        return answer(lambda: api.alerts(topic, query))

    return server


def serve_stdio(config: LoadedConfig) -> None:
    """Serve MCP on stdin/stdout until the client closes it (the store opened read-only)."""
    store = StoredState.open(config.settings.storage.url, migrate=False)
    try:
        server = build_mcp_server(store, topics_from_settings(config.settings), utc_now)
        server.run("stdio")
    finally:
        store.close()
