"""The HTTP surface: Slack slash commands (signature verified) and /healthz, served by uvicorn."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
import uvicorn
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.config import HttpSettings
from bot.service.connection_guard import REQUEST_DEADLINE, ConnectionGuard
from bot.service.fd_budget import BACKLOG, connection_cap, service_reserve
from bot.service.prompt_server import PromptServer
from bot.service.read_gate import ReadGate
from bot.service.throttled_log import AcceptErrorHandler
from bot.slack.signed_requests import signed_body
from state.store import Store
from state.types import DestinationHealth

__all__ = ["HttpServer", "create_asgi_app", "health_report"]

log = logging.getLogger(__name__)

# Slack gives up after 3 s ("Timeout was reached", docs/sources.md#slack-slash-commands): answer
# something before that.
ANSWER_BUDGET = 2.5
# h11 refuses (400) a request whose headers are larger; Slack's are well under 2 KiB.
MAX_HEADER_BYTES = 16 * 1024
# uvicorn's default: an idle keep-alive connection is closed after this many seconds.
KEEP_ALIVE = 5
BUSY = "trialwatch is slow to read its database right now; please try again in a minute."
FAILED = "trialwatch could not read its status just now; the error is in its log."
DISABLED = (
    "Slack commands are disabled on this trialwatch server: SLACK_SIGNING_SECRET is not set, "
    "so requests cannot be verified.\n"
)


def health_report(
    store: Store, sources: Sequence[str], destinations: Sequence[str] = ()
) -> dict[str, Any]:
    """Per source and per destination: last success and what is failing; raises if the
    database is down."""
    store.ping()
    last: dict[str, datetime | None] = dict.fromkeys(sources)
    failing: dict[str, list[str]] = {s: [] for s in sources}
    for health in store.health():
        seen = last.setdefault(health.source, None)
        if health.last_success and (seen is None or health.last_success > seen):
            last[health.source] = health.last_success
        if health.consecutive_failures:
            failing.setdefault(health.source, []).append(health.topic)
    report = {
        source: {
            "last_success": when.isoformat() if when else None,
            "failing_topics": failing.get(source, []),
        }
        for source, when in last.items()
    }
    delivery = store.outbox.health(destinations)
    return {
        "status": "ok",
        "database": "ok",
        "sources": report,
        "failing": sorted(s for s, topics in failing.items() if topics),
        "destinations": {h.destination: _destination_report(h) for h in delivery},
        "failing_destinations": [h.destination for h in delivery if h.failing],
    }


def _destination_report(health: DestinationHealth) -> dict[str, Any]:
    def iso(when: datetime | None) -> str | None:
        return when.isoformat() if when else None

    # States and counts only: error texts stay in the logs and `status` (this is unauthenticated).
    return {
        "ok": not health.failing,
        "pending": health.pending,
        "last_delivered": iso(health.last_delivered),
        "retrying_since": iso(health.retry_since),
        "failed": health.failed,
        "last_failed_at": iso(health.last_failed_at),
    }


def create_asgi_app(
    *,
    answer: Callable[[str], dict[str, Any]],
    health: Callable[[], dict[str, Any]],
    signing_secret: str | None,
    clock: Clock | None = None,
    answer_budget: float = ANSWER_BUDGET,
    pages: Sequence[Route] = (),
    read_gate: ReadGate | None = None,
) -> Starlette:
    """The Starlette app; `answer` turns a command's text into its ack payload (blocking is ok).

    `read_gate`: how many answers may read at once (bot/service/read_gate.py)."""
    verifier = SignatureVerifier(signing_secret, clock or Clock()) if signing_secret else None
    gate = read_gate or ReadGate()

    async def slack_commands(request: Request) -> Response:
        if verifier is None:
            log.warning("slack command rejected status=503 reason=SLACK_SIGNING_SECRET is not set")
            return PlainTextResponse(DISABLED, status_code=503)
        body = await signed_body(request, verifier, what="slack command", log=log)
        if isinstance(body, Response):
            return body
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        text = form.get("text", [""])[0]
        started = time.perf_counter()
        busy: dict[str, Any] = {"response_type": "ephemeral", "text": BUSY}
        payload = busy
        until = time.monotonic() + answer_budget
        with anyio.move_on_after(answer_budget):
            try:
                # Abandoned (not awaited) past the budget, so Slack still gets its answer in time;
                # the gate keeps an abandoned read's slot until it ends (no pool exhaustion).
                read = functools.partial(answer, text)
                answered = await anyio.to_thread.run_sync(
                    functools.partial(gate.call, read, until=until), abandon_on_cancel=True
                )
                payload = busy if answered is None else answered
            except Exception:
                log.exception("slash command %r failed", text)
                payload = {"response_type": "ephemeral", "text": FAILED}
        log.info(
            "slack command=%s text=%r user=%s answered in %.0f ms",
            form.get("command", ["?"])[0],
            text,
            form.get("user_id", ["?"])[0],
            (time.perf_counter() - started) * 1000,
        )
        return JSONResponse(payload)

    async def healthz(request: Request) -> Response:
        try:
            report = await anyio.to_thread.run_sync(health)
        except Exception as exc:  # the database is down: say so, without its URL or password
            log.warning("healthz: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse(report)

    return Starlette(
        routes=[
            Route("/slack/commands", slack_commands, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *pages,  # the read-only dashboard (bot/dashboard/serve.py)
        ]
    )


class HttpServer:
    """uvicorn serving an ASGI app from a background thread, on a socket bound up front.

    At most `max_connections` open at once (default: RLIMIT_NOFILE minus the reserve for the
    default `[http] max_parallel`); a request must arrive whole within `request_deadline` s.
    """

    def __init__(
        self,
        app: Starlette,
        host: str,
        port: int,
        *,
        max_connections: int | None = None,
        request_deadline: float = REQUEST_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
        # and without it each response waits ~40 ms on Nagle + delayed ACK.
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))  # raises OSError now, e.g. "address in use"
        except OSError:
            self._socket.close()
            raise
        self.host, self.port = host, int(self._socket.getsockname()[1])
        cap = max_connections or connection_cap(service_reserve(HttpSettings().max_parallel))
        self.guard = ConnectionGuard(cap, request_deadline, clock)
        config = uvicorn.Config(
            app,
            http=self.guard.protocol(),  # h11, with the connection cap and request deadline
            ws="none",  # no websockets here: an upgrade would leave the guard's count
            log_config=None,  # keep our handlers (JSON lines, secret redaction)
            access_log=False,  # /healthz is probed every few seconds; commands log themselves
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE,
            backlog=BACKLOG,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        # Stops as soon as nothing is in flight; accept() failures logged once a minute.
        self._server = PromptServer(config, AcceptErrorHandler(log, clock))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="http", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:8080."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Serve in the background; return once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server on {self.url} did not start")
            time.sleep(0.01)

    def request_stop(self) -> None:
        """Stop accepting connections and finish the ones in flight (returns at once)."""
        self._server.request_exit()

    def wait_stopped(self, timeout: float) -> bool:
        """Wait for the server thread to end; True if it did."""
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._socket.close()
        return not self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop and wait; True if the server ended within `timeout`."""
        self.request_stop()
        return self.wait_stopped(timeout)
