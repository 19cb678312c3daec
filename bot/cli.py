"""`trialwatch ...`: the command-line entry point."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.calendar.command import calendar_command
from bot.cli_help import PlainCommand
from bot.config import ConfigError, LoadedConfig, load_settings
from bot.logs import configure_logging, log_destinations
from bot.terminal_text import one_line

# Each command imports what it needs (the database, HTTP, Slack, the web server) when it runs:
# `--help` and `status` stay quick instead of loading every library first.

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: Rich markup would eat "[digest]" and "[sources.*]" from our texts.
    rich_markup_mode=None,
)

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="TOML config file (default: $TRIALWATCH_CONFIG, else ./trialwatch.toml, "
        "else the embedded defaults).",
    ),
]


def _version() -> str:
    import importlib.metadata  # only for --version: it reads every installed package's metadata

    try:
        return importlib.metadata.version("trialwatch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"trialwatch {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """trialwatch: watches trial registries, regulators and news for your drug programmes.

    \b
    Start with:  trialwatch check             (poll once, print what changed)
                 trialwatch status ulefnersen (what is stored for a topic)
    """


@contextmanager
def _database(loaded: LoadedConfig, command: str) -> Iterator[None]:
    """Database trouble (unreachable, read-only, corrupt) as one sentence and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db_errors import describe_database_error

    try:
        yield
    except (SQLAlchemyError, PermissionError) as exc:
        message = describe_database_error(loaded.settings.storage.url, exc)
        typer.echo(f"trialwatch {command}: {message}", err=True)
        raise typer.Exit(1) from None


def _load(config: str | None, verbose: bool, errors_only: tuple[str, ...] = ()) -> LoadedConfig:
    try:
        loaded = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    level = logging.INFO if verbose else logging.WARNING
    configure_logging(level, loaded.secrets.values(), errors_only=errors_only)
    if loaded.secrets.slack_bot_token is not None and not loaded.settings.slack.channel:
        missing = [t.name for t in loaded.settings.topics if not t.slack_channel]
        if missing:
            typer.echo(
                f"configuration error: {loaded.source}: SLACK_BOT_TOKEN is set but topic(s) "
                f"{', '.join(missing)} have no slack_channel and [slack].channel is not set",
                err=True,
            )
            raise typer.Exit(2)
    return loaded


@app.command(cls=PlainCommand, short_help="Poll every source once, store, deliver alerts.")
def check(
    config: ConfigOption = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log each poll, and show failure reasons whole."),
    ] = False,
) -> None:
    """Poll every enabled source for every topic once, store, then deliver pending alerts.

    \b
    Example:
      trialwatch check --config trialwatch.toml
    """
    from bot.app import open_app
    from bot.check_summary import Progress, cut, summary_lines
    from state.delivered import delivered_between

    _collect_from_now()
    # Each poll's failure is said once, in the summary: without -v no log line repeats it.
    quiet_logs = () if verbose else ("bot.pipeline", "bot.history_import")
    loaded = _load(config, verbose, errors_only=quiet_logs)
    if verbose:
        log_destinations(loaded)
    width = None if verbose else _terminal_width()
    with _database(loaded, "check"), open_app(loaded) as application:
        total = len(application.topics) * len(application.watchers)
        _err(cut(f"trialwatch: config {loaded.source}; {total} poll(s) to run", width))
        progress = Progress(
            _write_err,
            total,
            verbose=verbose,
            terminal=sys.stderr.isatty(),
            with_topic=len(application.topics) > 1,
        )
        started = application.clock()
        report = application.check(progress)
        progress.close()
        # Delivered in the meantime, and not by this check: the running service got there first.
        delivered = delivered_between(application.store.engine, started, application.clock())
        elsewhere = {
            d.destination: delivered.get(d.destination, 0) - d.sent - d.found_posted
            for d in report.deliveries
        }
        lines = summary_lines(
            report,
            width=width,
            any_source=bool(application.watchers),
            delivered_elsewhere={k: v for k, v in elsewhere.items() if v > 0},
        )
        typer.echo("\n".join(lines))


def _terminal_width() -> int:
    # Summary lines are cut to the terminal (80 when piped): `-v` shows reasons whole.
    return shutil.get_terminal_size((80, 24)).columns


def _write_err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@app.command(cls=PlainCommand, short_help="Show what is stored for a topic (no polling).")
def status(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="A topic, one of its aliases, or an NCT id."),
    ],
    config: ConfigOption = None,
    unacked: Annotated[
        bool,
        typer.Option(
            "--unacked", help="Only list its high alerts nobody acknowledged in Slack yet."
        ),
    ] = False,
    every: Annotated[
        bool, typer.Option("--all", help="List every stored alert, not only the most important 5.")
    ] = False,
) -> None:
    """Show a topic's trials, latest alerts and source health from stored state (no polling).

    \b
    Example:
      trialwatch status ulefnersen
      trialwatch status ulefnersen --unacked
      trialwatch status ulefnersen --all
    """
    from bot.reader import open_reader
    from bot.status.terminal import status_text
    from bot.status.triage_lines import unacked_lines
    from bot.topics import UnknownTopicError
    from state.status import CARD_ALERTS

    loaded = _load(config, False)
    # The store only: no HTTP, Slack or destinations to build (a quick start, issue 10).
    with _database(loaded, "status"), open_reader(loaded) as application:
        try:
            topic = application.resolve_topic(name)
        except UnknownTopicError:
            known = ", ".join(one_line(t.name) for t in application.topics)
            typer.echo(f"unknown topic {one_line(name)!r}; known topics: {known}", err=True)
            raise typer.Exit(1) from None
        now = application.clock()
        if unacked:
            for line in unacked_lines(application.store.unacknowledged(topic.name, now)):
                typer.echo(one_line(line))
            return
        status_card = application.topic_status(topic.name, alerts=None if every else CARD_ALERTS)
        typer.echo(status_text(topic, status_card, now=now))


app.command("calendar", cls=PlainCommand, short_help="List a topic's milestones, soonest first.")(
    calendar_command
)


@app.command(cls=PlainCommand, short_help="Write a topic's dashboard page as one HTML file.")
def report(
    name: Annotated[str, typer.Argument(help="A topic, one of its aliases, or an NCT id.")],
    html: Annotated[Path, typer.Option("--html", help="Where to write the HTML file.")],
    config: ConfigOption = None,
) -> None:
    """Write the topic's dashboard page (trials, charts, alerts, health) as one HTML file.

    \b
    Example:
      trialwatch report ulefnersen --html fusion.html
    """
    from bot.dashboard.serve import render_topic
    from bot.reader import open_reader
    from bot.topics import UnknownTopicError

    loaded = _load(config, False)
    with _database(loaded, "report"), open_reader(loaded) as application:
        try:
            topic = application.resolve_topic(name)
        except UnknownTopicError:
            typer.echo(f"unknown topic {one_line(name)!r}", err=True)
            raise typer.Exit(1) from None
        page = render_topic(application.store, topic, application.clock())
    try:
        html.write_text(page, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"could not write {html}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {html} ({len(page.encode()):,} bytes)")


@app.command(cls=PlainCommand, short_help="Post, or drop, the alerts held from a storm.")
def release(
    topic: Annotated[
        str, typer.Argument(metavar="TOPIC", help="The topic whose alerts were held.")
    ],
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help="The source id the held-alerts alert names."),
    ],
    drop: Annotated[
        bool, typer.Option("--drop", help="Never post them (they stay in status and digest).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Post (or with --drop, never post) the alerts held from one poll's storm of changes.

    \b
    Example:
      trialwatch release ulefnersen google_news
    """
    from bot.app import UnknownTopicError, open_app
    from state.alert_sources import alert_sources

    _collect_from_now()
    loaded = _load(config, False)
    with _database(loaded, "release"), open_app(loaded) as application:
        try:
            found = application.resolve_topic(topic)
        except UnknownTopicError:
            typer.echo(f"unknown topic {one_line(topic)!r}", err=True)
            raise typer.Exit(1) from None
        configured = {watcher.source for watcher in application.watchers}
        known = sorted(configured | alert_sources(application.store.engine, found.name))
        if source not in known:
            listed = ", ".join(known) or "none enabled"
            typer.echo(f"unknown source {one_line(source)!r}; known source ids: {listed}", err=True)
            raise typer.Exit(2)
        count = application.store.release_held(found.name, source, drop=drop)
        where = one_line(f"{found.name} from {source}")
        if count == 0:
            typer.echo(f"no held alerts for {where}")
        elif drop:
            typer.echo(f"dropped {count} held deliveries for {where}")
        else:
            typer.echo(f"released {count} held deliveries for {where}")
            application.deliver()


@app.command(cls=PlainCommand, short_help="Print the daily email digest; --send mails it.")
def digest(
    send: Annotated[
        bool, typer.Option("--send", help="Mail it now (once a day per recipient list).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --send: send even if it was already sent.")
    ] = False,
    day: Annotated[
        str | None,
        typer.Option(
            "--day",
            metavar="YYYY-MM-DD",
            help="The digest of this day (default: the last one due at [digest].time).",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the daily email digest that would be sent (text version); --send mails it.

    \b
    Example:
      trialwatch digest --day 2026-11-22
    """
    from bot.app import open_app
    from bot.digest.job import (
        DigestStatus,
        build_digest,
        preview_note,
        send_digest,
        window_note,
    )
    from bot.digest.render import digest_subject, render_text

    _collect_from_now()
    loaded = _load(config, False)
    if force and not send:
        typer.echo("--force only applies together with --send", err=True)
        raise typer.Exit(2)
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        typer.echo(f"--day {day!r} is not a date like 2026-11-22", err=True)
        raise typer.Exit(2) from None
    with _database(loaded, "digest"), open_app(loaded) as application:
        now = application.clock()
        if not send:
            built = build_digest(application, now=now, day=wanted)
            typer.echo(f"Subject: {digest_subject(built)}\n\n{render_text(built)}", nl=False)
            typer.echo(f"note: {window_note(application, built, now)}", err=True)
            if note := preview_note(application, built.day):
                typer.echo(f"note: {note}", err=True)
            return
        outcome = send_digest(application, now=now, force=force, day=wanted)
        refused = (DigestStatus.NOT_CONFIGURED, DigestStatus.NOT_DUE)
        failed = outcome.status is DigestStatus.FAILED or outcome.status in refused
        typer.echo(outcome.message, err=failed)
        if outcome.status in refused:
            raise typer.Exit(2)
        if failed:
            raise typer.Exit(1)


class LogFormat(StrEnum):
    PLAIN = "plain"
    JSON = "json"


@app.command(cls=PlainCommand, short_help="Run the service: scheduled polls, delivery, HTTP.")
def run(
    config: ConfigOption = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format", metavar="plain|json", help="plain lines, or one JSON object per line."
        ),
    ] = LogFormat.PLAIN,
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate",
            help="Do not apply pending database migrations at start-up; refuse to start instead.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logs (scheduler and HTTP details).")
    ] = False,
) -> None:
    """Run the service: poll on schedule, deliver alerts, answer /status and /healthz.

    \b
    Example:
      trialwatch run --config trialwatch.toml --log-format json
    """
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db_errors import describe_database_error
    from bot.digest.job import digest_job_for, digest_retry_job_for
    from bot.service.run import ServiceError, run_service
    from state.migrate import SchemaOutOfDateError

    _collect_from_now()
    loaded = _load(config, verbose)
    level = logging.DEBUG if verbose else logging.INFO
    configure_logging(level, loaded.secrets.values(), json_lines=log_format is LogFormat.JSON)
    log_destinations(loaded)
    try:
        clean = run_service(
            loaded,
            migrate=not no_migrate,
            make_digest_job=digest_job_for,
            make_digest_retry_job=digest_retry_job_for,
        )
    except (ServiceError, SchemaOutOfDateError) as exc:
        typer.echo(f"trialwatch run: {exc}", err=True)
        raise typer.Exit(1) from None
    except (SQLAlchemyError, PermissionError) as exc:
        message = describe_database_error(loaded.settings.storage.url, exc)
        typer.echo(f"trialwatch run: {message}", err=True)
        raise typer.Exit(1) from None
    if not clean:
        # A job thread is stuck past the deadline (e.g. a Slack post hanging): the outbox keeps
        # anything unmarked, so leave without waiting for it to be joined at interpreter exit.
        logging.shutdown()
        os._exit(0)


def _collect_from_now() -> None:
    """This command may run long (polls, the service): collect cyclic garbage again. What
    start-up built is frozen: kept for good, and never scanned."""
    gc.freeze()
    gc.enable()


def main() -> None:
    """Console-script entry point."""
    # Start-up builds hundreds of thousands of long-lived objects (modules, config, table
    # metadata) and next to no garbage: the cyclic collector would scan them again and again,
    # a fifth of a `status`. Commands that run long turn it back on (_collect_from_now); one
    # that did not is frozen at exit rather than scanned once more (issue 10: a fast start).
    gc.disable()
    try:
        app(prog_name="trialwatch")
    finally:
        if not gc.isenabled():
            gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
