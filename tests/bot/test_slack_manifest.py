"""slack/manifest.yml asks for exactly the bot scopes the Web API methods the code calls need,
and points the slash command and the buttons at the paths the service serves."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient

from bot.service import server
from bot.slack.actions_endpoint import actions_route

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("bot", "state", "watchers")
# Each Web API method the code may call, with the bot scopes it needs (api.slack.com/methods).
# A method missing here fails the scan below: add it with its scopes, and them to the manifest.
SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "conversations.list": frozenset({"channels:read", "groups:read"}),
}
# Not a Web API call: slash commands need `commands` (the manifest declares /status).
COMMAND_SCOPE = "commands"


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text("utf-8"))
    return loaded


def called_methods(roots: tuple[str, ...] = PRODUCTION) -> set[str]:
    """Every Slack Web API method the code calls: `client.chat_update(...)` (any WebClient
    method name) or `client.api_call("chat.update", ...)`, as Slack names it."""
    methods: set[str] = set()
    for root in roots:
        for path in (ROOT / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                name = node.func.attr
                if name == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
                    methods.add(str(node.args[0].value))
                elif (
                    not name.startswith("_")
                    and "_" in name
                    and callable(getattr(WebClient, name, None))
                ):
                    methods.add(name.replace("_", "."))
    return methods


def test_the_scan_finds_the_calls_the_code_makes() -> None:
    found = called_methods()
    assert {"chat.postMessage", "chat.update", "conversations.history"} <= found


def test_every_called_method_is_known_and_the_manifest_asks_for_exactly_its_scopes() -> None:
    called = called_methods()
    unknown = called - set(SCOPES)
    assert not unknown, f"add the scopes of {sorted(unknown)} to SCOPES and the manifest"
    needed = set().union(*(SCOPES[m] for m in called)) | {COMMAND_SCOPE}
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_the_manifest_points_at_the_paths_the_service_serves() -> None:
    manifest = _manifest()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/status"
    commands_path = "/" + command["url"].split("/", 3)[3]
    assert f'Route("{commands_path}"' in inspect.getsource(server)
    actions = manifest["settings"]["interactivity"]
    route = actions_route(signing_secret=None, clicks=None)
    assert actions["is_enabled"] and actions["request_url"].endswith(route.path)
    assert manifest["settings"]["socket_mode_enabled"] is True
