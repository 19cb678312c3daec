"""Slash commands and button clicks over Socket Mode (SLACK_APP_TOKEN): no public URL needed.

The WebSocket is authenticated by the app-level token, so there is no request signature to
check here; the acknowledgement carries the card (docs/sources.md#slack-slash-commands).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.triage.actions import ClickHandler, Recorded
from bot.slack.triage.clicks import BadClick, parse_click

__all__ = ["SocketClient", "SocketModeRunner", "build_socket_client", "command_listener"]

log = logging.getLogger(__name__)

Answer = Callable[[str], dict[str, Any]]
Listener = Callable[[Any, SocketModeRequest], None]
# Slack or the network may be down at start: retry the first connection, backing off.
_RETRY_FIRST, _RETRY_MAX = 2.0, 60.0


class SocketClient(Protocol):
    """The parts of slack-sdk's SocketModeClient the runner uses (tests pass a fake)."""

    socket_mode_request_listeners: list[Any]

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def send_socket_mode_response(self, response: SocketModeResponse) -> None: ...


def _record_click(clicks: ClickHandler | None, payload: Any) -> Recorded | None:
    """A button click (`interactive` envelope) recorded, or None (logged) when refused."""
    if clicks is None:
        log.warning("slack action ignored over Socket Mode: Slack is not configured")
        return None
    try:
        return clicks.record(parse_click(payload))
    except BadClick as exc:
        log.warning("slack action rejected over Socket Mode reason=%s", exc)
    except Exception:
        log.exception("slack action could not be recorded")
    return None


def command_listener(answer: Answer, clicks: ClickHandler | None = None) -> Listener:
    """A request listener that acks slash commands with `answer(text)` and other envelopes bare;
    button clicks are recorded before the ack and their message updated after it."""

    def listener(client: Any, request: SocketModeRequest) -> None:
        payload = None
        recorded = None
        if request.type == "interactive":
            recorded = _record_click(clicks, request.payload)
        if request.type == "slash_commands" and request.accepts_response_payload:
            text = str(request.payload.get("text") or "")
            try:
                payload = answer(text)
            except Exception:
                log.exception("socket mode command %r failed", text)
                payload = {"response_type": "ephemeral", "text": "trialwatch failed; see its log."}
            log.info(
                "slack command=%s text=%r user=%s answered over Socket Mode",
                request.payload.get("command", "?"),
                text,
                request.payload.get("user_id", "?"),
            )
        # Every envelope is acknowledged, else Slack redelivers it.
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        )
        if recorded is not None and clicks is not None:
            clicks.update(recorded)

    return listener


def build_socket_client(app_token: str, api_url: str) -> SocketClient:
    """slack-sdk's built-in Socket Mode client, asking for its WebSocket URL at `api_url`."""
    return SocketModeClient(app_token=app_token, web_client=WebClient(base_url=api_url))


class SocketModeRunner:
    """Connects in the background (retrying until it works or `stop` is set) and closes."""

    def __init__(
        self,
        factory: Callable[[], SocketClient],
        answer: Answer,
        stop: threading.Event,
        *,
        retry_first: float = _RETRY_FIRST,
        retry_max: float = _RETRY_MAX,
        clicks: ClickHandler | None = None,
    ) -> None:
        self._factory = factory
        self._clicks = clicks
        self._retry = (retry_first, retry_max)
        self._answer = answer
        self._stop = stop
        self._client: SocketClient | None = None
        self._thread = threading.Thread(target=self._connect, name="socket-mode", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        """Begin connecting; returns at once."""
        self._thread.start()

    def _connect(self) -> None:
        if self._stop.is_set():
            return
        delay, most = self._retry
        client = self._factory()
        client.socket_mode_request_listeners.append(command_listener(self._answer, self._clicks))
        self._client = client
        while not self._stop.is_set():
            try:
                client.connect()
            except Exception as exc:
                log.warning("Socket Mode: cannot connect (%s); retrying in %.0fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, most)
                continue
            log.info("Socket Mode: connected; answering slash commands")
            self.connected.set()
            return

    def close(self, timeout: float) -> bool:
        """Close the connection; True if it closed within `timeout` seconds."""
        client = self._client
        if client is None:
            return True
        closer = threading.Thread(target=client.close, name="socket-mode-close", daemon=True)
        closer.start()
        closer.join(timeout)
        return not closer.is_alive()
