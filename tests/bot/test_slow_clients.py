"""Slow clients cannot take the service's HTTP server down (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import errno
import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.service.fd_budget import BACKLOG, connection_cap
from bot.service.server import HttpServer
from bot.service.throttled_log import AcceptErrorHandler
from tests.fakes.starved_server import serve_starved

PARTIAL = (
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n"  # the blank line that ends the headers never comes
)
WHOLE = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
# Slow enough for a busy machine to send a whole request, short enough not to slow the suite.
DEADLINE = 0.5


def healthz_app(release: threading.Event | None = None) -> Starlette:
    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def slow(request: Request) -> Response:
        assert release is not None
        await anyio.to_thread.run_sync(release.wait, 10)
        return PlainTextResponse("slow ok")

    async def echo(request: Request) -> Response:
        return PlainTextResponse(await request.body())

    routes = [
        Route("/healthz", healthz),
        Route("/slow", slow),
        Route("/echo", echo, methods=["POST"]),
    ]
    return Starlette(routes=routes)


@pytest.fixture
def serve() -> Iterator[Callable[..., HttpServer]]:
    servers: list[HttpServer] = []

    def start(app: Starlette, **kw: float) -> HttpServer:
        server = HttpServer(app, "127.0.0.1", 0, **kw)  # type: ignore[arg-type]
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop(5)


def connect(server: HttpServer, *payloads: bytes) -> socket.socket:
    """A connection that sends `payloads`, reading one response between two of them."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    for n, payload in enumerate(payloads):
        if n:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(payload)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes; False if it still holds the connection after 5 s."""
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.close()
    return True


SLOW_BODY = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\nab"


@pytest.mark.parametrize(
    "payloads",
    [
        pytest.param((), id="nothing-sent"),
        pytest.param((PARTIAL,), id="partial-headers"),
        pytest.param((SLOW_BODY,), id="partial-body"),
        pytest.param((WHOLE, PARTIAL), id="keep-alive-then-partial"),
    ],
)
def test_a_request_that_never_arrives_whole_is_closed_after_the_deadline(
    serve: Callable[..., HttpServer], payloads: tuple[bytes, ...]
) -> None:
    server = serve(healthz_app(), request_deadline=DEADLINE)
    started = time.monotonic()
    slow = [connect(server, *payloads) for _ in range(5)]
    assert all(closed_by_server(sock) for sock in slow)
    assert time.monotonic() - started >= DEADLINE
    assert httpx.get(f"{server.url}/healthz").text == "ok"


def test_a_slow_answer_is_not_cut_by_the_request_deadline(
    serve: Callable[..., HttpServer],
) -> None:
    release = threading.Event()
    server = serve(healthz_app(release), request_deadline=DEADLINE)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        waiting = threading.Thread(target=lambda: answers.append(client.get("/slow").text))
        answers: list[str] = []
        waiting.start()
        # A partial request opened after the slow one is closed at its deadline: by then the
        # slow request's deadline has passed as well.
        assert closed_by_server(connect(server, PARTIAL))
        release.set()
        waiting.join(10)
    assert answers == ["slow ok"]


def test_healthz_answers_while_slow_clients_fill_every_slot(
    serve: Callable[..., HttpServer],
) -> None:
    server = serve(healthz_app(), max_connections=20, request_deadline=60)
    slow = [connect(server, PARTIAL) for _ in range(40)]
    with httpx.Client(base_url=server.url, timeout=5) as client:
        for _ in range(3):
            assert client.get("/healthz").text == "ok"
    assert server.guard.open <= 20
    # The oldest slow connections made room; the newest are still open (deadline: 60 s).
    assert all(closed_by_server(sock) for sock in slow[:20])
    for sock in slow[20:]:
        sock.close()


def test_accept_errors_are_logged_once_per_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    handler = AcceptErrorHandler(logging.getLogger("accept-test"), clock=lambda: now[0])
    context = {
        "message": "socket.accept() out of system resource",
        "exception": OSError(errno.EMFILE, "Too many open files"),
    }
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="accept-test"):
            for second in range(121):  # 2 minutes of failures, 50 a second
                now[0] = 1000.0 + second
                for _ in range(50):
                    handler(loop, context)
    finally:
        loop.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "accept-test"]
    assert len(messages) == 3  # at 0 s, 60 s and 120 s: never one per failure
    assert "Too many open files" in messages[0]
    assert "3000 time(s) in the last 60 s" in messages[1]


def test_the_server_holds_when_descriptors_run_out() -> None:
    # A forked child with RLIMIT_NOFILE lowered: whatever it exhausts cannot touch this process.
    soft_limit, reserve = 320, 96
    context = multiprocessing.get_context("forkserver")
    ours, theirs = context.Pipe()
    child = context.Process(target=serve_starved, args=(theirs, soft_limit, reserve, 60.0))
    child.start()
    slow: list[socket.socket] = []
    try:
        assert ours.poll(20), "the starved server did not start"
        port, cap = ours.recv()
        assert cap == connection_cap(reserve, soft_limit) == soft_limit - reserve - BACKLOG
        url = f"http://127.0.0.1:{port}"
        # More slow connections than the child has descriptors.
        slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(400)]
        for sock in slow:
            sock.sendall(PARTIAL)
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("/healthz").text == "ok"
            assert client.get("/poll").text == "ok"  # the reserve is still there for polls

            # Out of descriptors anyway (something else took them): accept() fails and says so
            # once, not once per connection.
            ours.send("fill")
            assert ours.recv() > 0
            waiting = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
            errors: list[str] = []
            deadline = time.monotonic() + 10
            while not errors and time.monotonic() < deadline:
                ours.send("accept errors")
                errors = ours.recv()
            assert len(errors) == 1, errors
            assert "Too many open files" in errors[0]
            ours.send("free")
            ours.recv()
            assert httpx.get(f"{url}/healthz", timeout=10).text == "ok"  # it recovers
            for sock in waiting:
                sock.close()
        ours.send("stop")
        assert ours.recv() is True
    finally:
        for sock in slow:
            sock.close()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
