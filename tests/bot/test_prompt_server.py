"""Stopping the HTTP server: what is in flight finishes, a hung request cannot hold it forever."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.service import prompt_server
from bot.service.prompt_server import PromptServer
from bot.service.server import HttpServer


def test_a_stop_lets_the_request_in_flight_finish_then_refuses_new_ones() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(request: Request) -> Response:  # Starlette runs a plain function in a thread
        entered.set()
        assert release.wait(10)
        return PlainTextResponse("the whole answer")

    server = HttpServer(Starlette(routes=[Route("/slow", slow)]), "127.0.0.1", 0)
    server.start()
    with ThreadPoolExecutor(1) as pool:
        try:
            pending = pool.submit(httpx.get, f"{server.url}/slow", timeout=10)
            assert entered.wait(10)
            server.request_stop()
            assert not server.wait_stopped(0.05)  # still answering
        finally:
            release.set()
        response = pending.result()
    assert server.wait_stopped(5)
    assert (response.status_code, response.text) == (200, "the whole answer")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/slow", timeout=5)


def test_a_hung_request_is_cancelled_at_the_graceful_shutdown_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered = threading.Event()

    async def hung(request: Request) -> Response:
        entered.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    app = Starlette(routes=[Route("/hung", hung)])
    config = uvicorn.Config(app, log_config=None, lifespan="off", timeout_graceful_shutdown=0.1)
    server = PromptServer(config)
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    with ThreadPoolExecutor(1) as pool, caplog.at_level(logging.ERROR):
        pending = pool.submit(httpx.get, f"http://127.0.0.1:{port}/hung", timeout=10)
        assert entered.wait(10)
        server.request_exit()
        thread.join(10)
        assert not thread.is_alive()
        assert pending.result().status_code == 500  # answered, not left waiting
    assert "cancelling 1 running task(s)" in caplog.text


def test_an_idle_server_wakes_at_most_once_a_second_and_its_date_header_stays_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn's own loop wakes ten times a second: on an always-on VM that was 3.5 ms of CPU a
    second (about 300 CPU-s a day) with nothing to do."""
    waits: list[float] = []
    ticked = threading.Event()

    async def recording_wait_for(awaitable: Any, timeout: float) -> Any:
        waits.append(timeout)
        ticked.set()
        return await asyncio.wait_for(awaitable, timeout)

    monkeypatch.setattr(prompt_server, "wait_for", recording_wait_for)
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    server = PromptServer(uvicorn.Config(app, log_config=None, lifespan="off"))
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        assert ticked.wait(10)
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        server.request_exit()
        thread.join(10)
    assert not thread.is_alive()  # a stop still wakes it at once
    sent = parsedate_to_datetime(response.headers["date"])
    assert abs((sent - datetime.now(UTC)).total_seconds()) < 3
    assert waits and min(waits) >= 1.0
