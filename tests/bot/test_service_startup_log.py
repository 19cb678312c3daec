"""`trialwatch run` says where things are: the dashboard's URL and who may read it."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.dashboard.serve import Dashboard
from bot.service.run import run_service
from bot.service.server import HttpServer
from tests.bot.service_helpers import free_port, loaded_config
from tests.factories import T0


def test_run_logs_the_dashboard_url_and_that_loopback_needs_no_token(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    stop = threading.Event()

    def stop_once_ready(server: HttpServer) -> None:
        stop.set()

    with caplog.at_level(logging.INFO, logger="bot.service.run"):
        assert run_service(
            loaded_config(db_url, server={"port": port}),
            stop=stop,
            handle_signals=False,
            on_ready=stop_once_ready,
        )
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.service.run"]
    url = f"http://127.0.0.1:{port}/"
    assert (logging.INFO, f"dashboard on {url} (loopback only: no token needed)") in lines
    assert not [m for level, m in lines if level >= logging.WARNING and "dashboard" in m]


def dashboard(host: str, token: str | None) -> Dashboard:
    return Dashboard(None, [], lambda: T0, host=host, token=token)  # type: ignore[arg-type]


def test_off_loopback_with_a_token_says_the_pages_need_it() -> None:
    level, message = dashboard("0.0.0.0", "s3cret").startup_message("http://0.0.0.0:8080")
    assert level == logging.INFO
    assert message.startswith("dashboard on http://0.0.0.0:8080/ ")
    assert "Bearer" in message and "TRIALWATCH_DASHBOARD_TOKEN" in message
    assert "s3cret" not in message


def test_off_loopback_without_a_token_is_a_warning() -> None:
    level, message = dashboard("192.0.2.7", None).startup_message("http://192.0.2.7:8080")
    assert level == logging.WARNING
    assert "http://192.0.2.7:8080/" in message
    assert "without TRIALWATCH_DASHBOARD_TOKEN" in message and "503" in message
