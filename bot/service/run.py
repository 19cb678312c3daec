"""`trialwatch run`: the scheduler, the HTTP server and Socket Mode around one App, until stopped.

Stopping (SIGTERM, SIGINT) loses and duplicates nothing: a poll commits its snapshot and alerts
in one transaction and a delivery marks each message, so stopping means scheduling nothing new,
letting a running job reach a safe point (a fetch in flight is dropped, see bot/interrupt.py),
and closing the server, all within STOP_BUDGET seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from pydantic import SecretStr

from bot.app import App, open_app
from bot.calendar.feeds import CalendarFeeds
from bot.config import LoadedConfig
from bot.dashboard.serve import Dashboard
from bot.polling.sources import source_intervals
from bot.read.api import ReadApi
from bot.read.atom import AtomFeeds
from bot.service.fd_budget import connection_cap, service_reserve
from bot.service.scheduler import build_scheduler, due_after_restart
from bot.service.server import HttpServer, create_asgi_app, health_report
from bot.service.url_token import UrlTokenGate
from bot.slack.actions_endpoint import actions_route
from bot.slack.commands import StatusCommand
from bot.slack.socket_mode import SocketClient, SocketModeRunner, build_socket_client

__all__ = ["STOP_BUDGET", "Service", "ServiceError", "run_service"]

log = logging.getLogger(__name__)

# Orchestrators send SIGKILL 10 s after SIGTERM (Docker, Kubernetes defaults): finish before.
STOP_BUDGET = 8.0


class ServiceError(RuntimeError):
    """The service cannot start, e.g. its HTTP port is taken; the message says why."""


class _Running:
    """Counts jobs in progress so that shutdown can wait for them, up to a deadline."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def track(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=max(0.0, timeout))


class Service:
    """The jobs the scheduler runs, and the start-up and shutdown of everything around them."""

    def __init__(self, app: App, stop: threading.Event | None = None) -> None:
        self.app = app
        self.stop = stop or threading.Event()
        self._running = _Running()

    def poll(self, source: str) -> None:
        """Scheduled: poll one source for every topic, then flush the outbox."""
        with self._running.track():
            if self.stop.is_set():
                return
            try:
                self.app.poll_source(source, self.stop)
            except Exception:  # the next run may do better; the scheduler must keep going
                log.exception("poll job for %s failed", source)

    def flush(self) -> None:
        """Scheduled: deliver what is pending in the outbox."""
        with self._running.track():
            if self.stop.is_set():
                return
            try:
                for report in self.app.deliver():
                    if report.sent or report.failed or report.still_pending:
                        log.info(
                            "delivery destination=%s sent=%d failed=%d still_pending=%d",
                            report.destination,
                            report.sent,
                            report.failed,
                            report.still_pending,
                        )
            except Exception:
                log.exception("outbox flush failed")

    def tracked(self, job: Callable[[], object], name: str) -> Callable[[], None]:
        """`job` as a scheduled job: skipped once stopping, awaited at shutdown, errors logged."""

        def run() -> None:
            with self._running.track():
                if self.stop.is_set():
                    return
                try:
                    job()
                except Exception:
                    log.exception("%s job failed", name)

        return run

    def next_due(self, now: datetime) -> dict[str, datetime]:
        """When each source is due again after a restart (see `due_after_restart`)."""
        return due_after_restart(
            self.app.store.health(),
            [w.source for w in self.app.watchers],
            [t.name for t in self.app.topics],
            source_intervals(self.app.config.settings),
            now,
        )

    def wait_idle(self, timeout: float) -> bool:
        """True once no job is running; False if one still is after `timeout` seconds."""
        return self._running.wait_idle(timeout)


def _socket_factory(config: LoadedConfig) -> Callable[[], SocketClient] | None:
    token = config.secrets.slack_app_token
    if token is None:
        return None
    api_url = config.settings.slack.api_url
    return lambda: build_socket_client(token.get_secret_value(), api_url)


def _install_signals(stop: threading.Event, received: list[str]) -> None:
    # Only async-signal-safe work here (no logging: its locks may be held by this very thread).
    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        name = signal.Signals(signum).name
        if stop.is_set():  # a second signal: the operator does not want to wait
            os.write(2, f"trialwatch: second {name}, exiting now\n".encode())
            os._exit(1)
        received.append(name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_service(
    config: LoadedConfig,
    *,
    migrate: bool = True,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
    make_digest_job: Callable[[App], Callable[[], object]] | None = None,
    make_digest_retry_job: Callable[[App], Callable[[], object]] | None = None,
    socket_factory: Callable[[], SocketClient] | None = None,
    on_ready: Callable[[HttpServer], None] | None = None,
) -> bool:
    """Run until `stop` is set (or SIGTERM/SIGINT); True if everything stopped in time.

    `make_digest_job(app)` gives the daily digest job, scheduled at [digest].time;
    `make_digest_retry_job(app)` resends a failed one from the half-hourly housekeeping job.
    """
    stop = stop or threading.Event()
    settings, secrets = config.settings, config.secrets
    with open_app(config, migrate=migrate) as app:
        service = Service(app, stop)
        command = StatusCommand.for_app(app)
        sources = [w.source for w in app.watchers]
        destinations = [d.destination for d in app.deliverers]
        signing = secrets.slack_signing_secret
        dashboard = Dashboard(
            app.store,
            app.topics,
            app.clock,
            host=settings.server.host,
            token=_secret(secrets.trialwatch_dashboard_token),
            guidance={t.name: t.milestones for t in settings.topics},
        )
        feed_gate = UrlTokenGate(
            host=settings.server.host, token=_secret(secrets.trialwatch_feed_token)
        )
        asgi = create_asgi_app(
            answer=command.answer,
            health=lambda: health_report(app.store, sources, destinations),
            signing_secret=signing.get_secret_value() if signing else None,
            pages=[
                actions_route(signing_secret=_secret(signing), clicks=app.clicks),
                *dashboard.routes(),
                *ReadApi(app.store, app.topics, app.clock, dashboard.gate).routes(),
                *AtomFeeds(app.store, app.topics, app.clock, feed_gate).routes(),
                *CalendarFeeds(app.store, app.topics, settings, app.clock, feed_gate).routes(),
            ],
        )
        host, port = settings.server.host, settings.server.port
        try:
            # Slow clients get what RLIMIT_NOFILE leaves after the polls and the database.
            cap = connection_cap(service_reserve(settings.http.max_parallel))
            server = HttpServer(asgi, host, port, max_connections=cap)
        except OSError as exc:
            raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        digest = make_digest_job(app) if make_digest_job else None
        retry_digest = make_digest_retry_job(app) if make_digest_retry_job else None

        def housekeeping() -> None:
            app.store.prune(app.clock())
            app.import_history()  # best effort; its failures are its own health lines
            if retry_digest is not None:
                retry_digest()

        now = app.clock()
        scheduler = build_scheduler(
            settings,
            sources,
            poll_job=service.poll,
            flush_job=service.flush,
            now=now,
            digest_job=service.tracked(digest, "digest") if digest else None,
            housekeeping_job=service.tracked(housekeeping, "housekeeping"),
            next_due=service.next_due(now),
        )
        received: list[str] = []
        if handle_signals:
            _install_signals(stop, received)
        server.start()
        scheduler.start()
        factory = socket_factory or _socket_factory(config)
        socket_mode = (
            SocketModeRunner(factory, command.answer, stop, clicks=app.clicks) if factory else None
        )
        if socket_mode:
            socket_mode.start()
        _log_start(config, server, scheduler.get_jobs(), socket_mode is not None)
        log.log(*dashboard.startup_message(server.url))
        if on_ready:
            on_ready(server)
        while not stop.wait(0.5):
            pass
        log.info("%s: stopping", " and ".join(received) or "stop requested")
        return _shutdown(service, server, scheduler, socket_mode)


def _shutdown(
    service: Service,
    server: HttpServer,
    scheduler: BackgroundScheduler,
    socket_mode: SocketModeRunner | None,
) -> bool:
    """Stop everything against one deadline; True if every part finished before it."""
    deadline = time.monotonic() + STOP_BUDGET
    scheduler.shutdown(wait=False)
    server.request_stop()
    jobs_done = service.wait_idle(deadline - time.monotonic())
    socket_closed = (
        socket_mode.close(max(0.0, deadline - time.monotonic())) if socket_mode else True
    )
    server_done = server.wait_stopped(max(0.0, deadline - time.monotonic()))
    if not jobs_done:
        log.warning(
            "a job was still running at the shutdown deadline (a Slack post in flight?): "
            "anything not marked delivered stays in the outbox and is sent after restart"
        )
    clean = jobs_done and socket_closed and server_done
    log.info("trialwatch stopped%s", "" if clean else " (some parts did not finish in time)")
    return clean


def _log_start(config: LoadedConfig, server: HttpServer, jobs: list[Any], socket: bool) -> None:
    settings = config.settings
    log.info(
        "trialwatch running: config %s; %d topic(s); HTTP on %s "
        "(/slack/commands, /slack/actions, /healthz; at most %d connections); Socket Mode %s",
        config.source,
        len(settings.topics),
        server.url,
        server.guard.cap,
        "on" if socket else "off",
    )
    for job in jobs:
        if not job.id.startswith("poll:"):  # polls are logged when scheduled, with the reason
            log.info("scheduled %s: %s, next at %s", job.name, job.trigger, job.next_run_time)
    if config.secrets.slack_signing_secret is None:
        log.warning(
            "SLACK_SIGNING_SECRET is not set: POST /slack/commands answers 503 (Slack commands off)"
        )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
