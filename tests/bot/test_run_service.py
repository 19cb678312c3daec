"""`trialwatch run`: stopping at safe points, Socket Mode, and the real process under SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import App, open_app
from bot.config import LoadedConfig, Secrets
from bot.service.run import STOP_BUDGET, run_service
from bot.service.server import HttpServer
from bot.slack.socket_mode import SocketModeRunner, build_socket_client, command_listener
from state.store import Store
from tests.bot.service_helpers import free_port, loaded_config, sign
from tests.factories import T0, Clock, trial
from tests.fakes.forked import Forked
from tests.state.helpers import pending_alerts
from watchers.model import SourceResult, Topic

# -- a poll stops at a safe point ----------------------------------------------------------------


class HangingWatcher:
    """A source whose request never comes back (until released), like a stuck TCP connection."""

    source = "clinicaltrials"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def poll(self, topic: Topic, meta: Any) -> SourceResult:
        self.entered.set()
        self.release.wait(30)
        return SourceResult(source=self.source, topic=topic.name, observations=(trial(),))


class StopAfterFirst:
    """Answers for the first topic, and the service is told to stop meanwhile."""

    source = "clinicaltrials"

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.polled: list[str] = []

    def poll(self, topic: Topic, meta: Any) -> SourceResult:
        self.polled.append(topic.name)
        self.stop.set()
        return SourceResult(source=self.source, topic=topic.name, observations=(trial(),))


def nothing_recorded(store: Store) -> bool:
    """No attempt, failure or alert stored for any source (a lease row may exist)."""
    return all(
        h.last_attempt is None and h.consecutive_failures == 0 and h.last_failure is None
        for h in store.health()
    ) and not pending_alerts(store.outbox, "console")


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with open_app(loaded_config(db_url), clock=Clock(T0), write=lambda _: None) as application:
        yield application


def test_a_hung_poll_is_abandoned_on_stop_and_not_counted_as_a_failure(app: App) -> None:
    watcher, stop = HangingWatcher(), threading.Event()
    app.watchers = [watcher]
    job = threading.Thread(target=app.poll_source, args=("clinicaltrials", stop))
    job.start()
    assert watcher.entered.wait(5)
    stop.set()
    job.join(5)
    assert not job.is_alive()  # returned while the fetch still hangs: abandoned, not awaited
    watcher.release.set()  # the abandoned fetch finishes later: its result is thrown away
    assert nothing_recorded(app.store)  # not a source failure: no "source down" on the way
    assert app.store.snapshot("ulefnersen", "clinicaltrials") == {}


def test_stop_between_topics_keeps_the_committed_poll_and_skips_the_rest(app: App) -> None:
    stop = threading.Event()
    watcher = StopAfterFirst(stop)
    app.watchers = [watcher]
    summaries = app.poll_source("clinicaltrials", stop)
    assert watcher.polled == ["ulefnersen"]
    assert [s.topic for s in summaries] == ["ulefnersen"]
    assert set(app.store.snapshot("ulefnersen", "clinicaltrials")) == {"NCT04768972"}
    assert [h.topic for h in app.store.health()] == ["ulefnersen"]


def test_poll_source_names_an_unknown_source(app: App) -> None:
    with pytest.raises(KeyError, match="no enabled watcher for source 'pubmed'"):
        app.poll_source("pubmed")


# -- Socket Mode -------------------------------------------------------------------------------


class FakeSocketClient:
    """Records acknowledgements; `connect` fails `failures` times first."""

    def __init__(self, failures: int = 0) -> None:
        self.socket_mode_request_listeners: list[Any] = []
        self.sent: list[SocketModeResponse] = []
        self.failures = failures
        self.connects = 0
        self.closed = False

    def connect(self) -> None:
        self.connects += 1
        if self.connects <= self.failures:
            raise ConnectionError("slack.com unreachable")

    def close(self) -> None:
        self.closed = True

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)

    def deliver(self, request: SocketModeRequest) -> None:
        for listener in self.socket_mode_request_listeners:
            listener(self, request)


def slash(text: str, envelope: str = "env-1") -> SocketModeRequest:
    return SocketModeRequest(
        type="slash_commands",
        envelope_id=envelope,
        payload={"command": "/status", "text": text, "user_id": "U2147483697"},
        accepts_response_payload=True,
    )


def test_socket_mode_acks_a_slash_command_with_the_answer() -> None:
    client = FakeSocketClient()
    listener = command_listener(lambda text: {"response_type": "ephemeral", "text": f"<{text}>"})
    listener(client, slash("ulefnersen public", "e-42"))
    [ack] = client.sent
    assert ack.to_dict() == {
        "envelope_id": "e-42",
        "payload": {"response_type": "ephemeral", "text": "<ulefnersen public>"},
    }


def test_socket_mode_acks_other_envelopes_without_a_payload() -> None:
    client = FakeSocketClient()
    listener = command_listener(lambda text: pytest.fail("not a command"))
    listener(client, SocketModeRequest(type="events_api", envelope_id="e-7", payload={}))
    assert [ack.to_dict() for ack in client.sent] == [{"envelope_id": "e-7"}]


def test_socket_mode_answer_errors_become_a_polite_ack() -> None:
    def broken(text: str) -> dict[str, Any]:
        raise RuntimeError("db gone")

    client = FakeSocketClient()
    command_listener(broken)(client, slash("ulefnersen"))
    [ack] = client.sent
    assert ack.payload is not None and "failed" in ack.payload["text"]


def test_socket_mode_keeps_trying_to_connect_until_it_does() -> None:
    client, stop = FakeSocketClient(failures=2), threading.Event()
    runner = SocketModeRunner(lambda: client, dict, stop, retry_first=0.01, retry_max=0.02)
    runner.start()
    assert runner.connected.wait(5)
    assert client.connects == 3
    assert runner.close(1) and client.closed


def test_the_real_socket_mode_client_asks_slack_at_the_configured_api_url() -> None:
    client = build_socket_client("xapp-1-not-a-real-token", "http://127.0.0.1:9/api/")
    try:
        assert isinstance(client, SocketModeClient)
        assert client.web_client.base_url == "http://127.0.0.1:9/api/"
        assert client.app_token == "xapp-1-not-a-real-token"
    finally:
        client.close()


# -- the whole service in this process ----------------------------------------------------------


def test_run_service_answers_and_stops_cleanly(db_url: str) -> None:
    port = free_port()
    base = loaded_config(db_url, server={"port": port})
    config = LoadedConfig(
        settings=base.settings,
        secrets=Secrets.model_validate({"slack_signing_secret": "s3cret-for-tests"}),
        source="test",
    )
    socket_client, stop = FakeSocketClient(), threading.Event()
    ready = threading.Event()
    outcome: list[bool] = []

    def serve() -> None:
        outcome.append(
            run_service(
                config,
                stop=stop,
                handle_signals=False,
                socket_factory=lambda: socket_client,
                on_ready=lambda server: ready.set(),
            )
        )

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert ready.wait(10)
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        body = "command=%2Fstatus&text=ION363"
        signed = sign("s3cret-for-tests", int(time.time()), body)
        answer = httpx.post(f"{url}/slack/commands", content=body, headers=signed).json()
        assert answer["blocks"][0]["text"]["text"] == "ulefnersen status"
        deadline = time.monotonic() + 5
        while not socket_client.socket_mode_request_listeners and time.monotonic() < deadline:
            time.sleep(0.01)
        socket_client.deliver(slash("tofersen"))
        [ack] = socket_client.sent
        assert ack.payload is not None
        assert ack.payload["blocks"][0]["text"]["text"] == "tofersen status"
        # Buttons: the route is served, and refuses clearly without a Slack bot token.
        body = "payload=%7B%7D"
        signed = sign("s3cret-for-tests", int(time.time()), body)
        refused = httpx.post(f"{url}/slack/actions", content=body, headers=signed)
        assert refused.status_code == 503 and "SLACK_BOT_TOKEN" in refused.text
        click = {"type": "block_actions"}
        socket_client.deliver(SocketModeRequest("interactive", "env-2", click))
        assert [r.envelope_id for r in socket_client.sent] == ["env-1", "env-2"]  # acked anyway
    finally:
        stop.set()
        thread.join(STOP_BUDGET + 2)
    assert not thread.is_alive()
    assert outcome == [True]
    assert socket_client.closed
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")


def test_a_taken_port_is_a_clear_error(db_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = loaded_config(db_url, server={"port": port})
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}"):
            run_service(config, stop=threading.Event(), handle_signals=False)


def test_http_server_reports_its_url() -> None:
    from starlette.applications import Starlette

    server = HttpServer(Starlette(), "127.0.0.1", 0)
    server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.url}/nothing").status_code == 404
    finally:
        assert server.stop(5)


# -- `trialwatch run` as a real process ----------------------------------------------------------


def write_config(tmp_path: Path, db_url: str, port: int, ctgov: str) -> Path:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363"]
trials = ["NCT04768972"]

[sources.clinicaltrials]
base_url = "{ctgov}"

[server]
host = "127.0.0.1"
port = {port}

[http]
max_retries = 0
"""
    )
    return path


def start_run(config: Path, *extra: str, at_once: bool = False) -> Forked:
    """`trialwatch run` in a real process of its own, forked ready-imported (forked.py);
    `at_once` starts the first poll at once instead of after FIRST_POLL_DELAY seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRIALWATCH_"))}
    entry = "tests.fakes.run_entry:run_at_once" if at_once else "bot.cli:main"
    return Forked(entry, "run", "--config", str(config), *extra, cwd=config.parent, env=env)


def wait_healthy(process: Forked, port: int) -> dict[str, Any]:
    """/healthz once it answers; on failure the process is killed, never left to other tests."""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            assert response.status_code == 200
            return dict(response.json())
        raise AssertionError("trialwatch run never answered /healthz")
    except BaseException:
        process.kill()
        process.communicate()
        raise


def stop_and_wait(process: Forked, signum: int) -> str:
    """Send `signum`; the process must exit within 10 s (what orchestrators allow). Its stderr."""
    process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("trialwatch run did not stop within 10 s") from None
    return stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_trialwatch_run_serves_healthz_and_exits_cleanly_on_signal(
    tmp_path: Path, db_url: str, signum: int
) -> None:
    port = free_port()
    # Every source points at a port where nothing listens.
    config = write_config(tmp_path, db_url, port, f"http://127.0.0.1:{free_port()}/api/v2")
    process = start_run(config, "--log-format", "json")
    health = wait_healthy(process, port)
    assert health["sources"] == {"clinicaltrials": {"last_success": None, "failing_topics": []}}
    stderr = stop_and_wait(process, signum)
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines()]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("trialwatch running:") for m in messages)
    assert "trialwatch stopped" in messages
    assert any("SLACK_SIGNING_SECRET is not set" in m for m in messages)


class BlackHole:
    """A TCP server that accepts connections and never answers: a hung upstream."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connected.set()

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


def test_sigterm_during_a_hung_poll_exits_within_10_s_without_recording_a_failure(
    tmp_path: Path, sqlite_url: str
) -> None:
    hole, port = BlackHole(), free_port()
    try:
        config = write_config(tmp_path, sqlite_url, port, f"http://127.0.0.1:{hole.port}/api/v2")
        process = start_run(config, at_once=True)
        wait_healthy(process, port)
        # The first poll starts at once (RUN_AT_ONCE) and hangs on the black hole.
        assert hole.connected.wait(30), "the first poll never started"
        stderr = stop_and_wait(process, signal.SIGTERM)
    finally:
        hole.close()
    assert process.returncode == 0, stderr
    assert "abandoned: shutting down" in stderr
    store = Store.open(sqlite_url)
    try:
        assert nothing_recorded(store)  # an abandoned poll says nothing about the source
    finally:
        store.close()
