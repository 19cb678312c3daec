"""`trialwatch ...`: the command-line entry point."""

from __future__ import annotations

import logging
import os
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.app import App, CheckReport, UnknownTopicError, open_app
from bot.config import ConfigError, LoadedConfig, load_settings
from bot.digest.job import (
    DigestStatus,
    build_digest,
    digest_job_for,
    digest_retry_job_for,
    preview_note,
    send_digest,
)
from bot.digest.render import digest_subject, render_text
from bot.logs import configure_logging
from bot.pipeline import PollSummary
from bot.service.run import ServiceError, run_service
from bot.status.terminal import status_text
from state.fields import source_label
from state.migrate import SchemaOutOfDateError
from state.types import PollOutcome

__all__ = ["app", "main"]

app = typer.Typer(
    help="trialwatch: watches trial registries, regulators and news for your drug programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help="TOML config file (default: $TRIALWATCH_CONFIG, else ./trialwatch.toml, "
        "else the embedded example).",
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log each poll to stderr.")]


def _load(config: str | None, verbose: bool) -> LoadedConfig:
    try:
        loaded = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(logging.INFO if verbose else logging.WARNING, loaded.secrets.values())
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


@app.command()
def check(config: ConfigOption = None, verbose: VerboseOption = False) -> None:
    """Poll every enabled source for every topic once, store, then deliver pending alerts."""
    loaded = _load(config, verbose)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    with open_app(loaded) as application:
        total = len(application.topics) * len(application.watchers)
        err.print(f"trialwatch: config {loaded.source}; {total} poll(s) to run", highlight=False)

        def progress(summary: PollSummary) -> None:
            if err.is_terminal:
                err.print(f"  {source_label(summary.source)} / {summary.topic}: {summary.outcome}")

        report = application.check(progress)
        _print_summary(application, report)


def _print_summary(application: App, report: CheckReport) -> None:
    out = Console(highlight=False, soft_wrap=True)
    table = Table(title="trialwatch check", title_justify="left")
    for column in ("source", "topic", "outcome", "alerts", "time"):
        table.add_column(column)
    for poll in report.polls:
        table.add_row(
            source_label(poll.source),
            poll.topic,
            poll.outcome.value,
            str(poll.alerts),
            f"{poll.duration_s:.2f}s",
        )
    out.print(table)
    failed = [p for p in report.polls if p.outcome is PollOutcome.FAILED]
    skipped = sum(p.outcome is PollOutcome.SKIPPED for p in report.polls)
    ok = len(report.polls) - len(failed) - skipped
    alerts = sum(p.alerts for p in report.polls)
    held = f", {skipped} skipped (polled by another trialwatch just now)" if skipped else ""
    out.print(f"sources: {ok} ok, {len(failed)} failed{held}; new alerts: {alerts}")
    for failure in failed:
        out.print(f"  FAILED {source_label(failure.source)} ({failure.topic}): {failure.error}")
    for delivery in report.deliveries:
        line = f"delivered to {delivery.destination}: {delivery.sent}"
        if delivery.failed or delivery.still_pending:
            line += f"; failed: {delivery.failed}; still pending: {delivery.still_pending}"
        out.print(line)
        for error in delivery.errors:
            out.print(f"  {error}")
    if not application.watchers:
        out.print("no source is enabled: add a [sources.*] section to the config")


@app.command()
def status(
    name: Annotated[str, typer.Argument(help="A topic, one of its aliases, or an NCT id.")],
    config: ConfigOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show a topic's trials, latest alerts and source health from stored state (no polling)."""
    loaded = _load(config, verbose)
    with open_app(loaded) as application:
        try:
            topic = application.resolve_topic(name)
        except UnknownTopicError:
            known = ", ".join(t.name for t in application.topics)
            typer.echo(f"unknown topic {name!r}; known topics: {known}", err=True)
            raise typer.Exit(1) from None
        status_card = application.store.status(topic.name)
        typer.echo(status_text(topic, status_card, now=application.clock()))


@app.command()
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
    verbose: VerboseOption = False,
) -> None:
    """Print the daily email digest that would be sent (text version); --send mails it."""
    loaded = _load(config, verbose)
    if force and not send:
        typer.echo("--force only applies together with --send", err=True)
        raise typer.Exit(2)
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        typer.echo(f"--day {day!r} is not a date like 2026-11-22", err=True)
        raise typer.Exit(2) from None
    with open_app(loaded) as application:
        now = application.clock()
        if not send:
            built = build_digest(application, now=now, day=wanted)
            typer.echo(f"Subject: {digest_subject(built)}\n\n{render_text(built)}", nl=False)
            if note := preview_note(application, built.day):
                typer.echo(f"note: {note}", err=True)
            return
        outcome = send_digest(application, now=now, force=force, day=wanted)
        failed = outcome.status in (DigestStatus.FAILED, DigestStatus.NOT_CONFIGURED)
        typer.echo(outcome.message, err=failed)
        if outcome.status is DigestStatus.NOT_CONFIGURED:
            raise typer.Exit(2)
        if failed:
            raise typer.Exit(1)


class LogFormat(StrEnum):
    PLAIN = "plain"
    JSON = "json"


@app.command()
def run(
    config: ConfigOption = None,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="plain lines, or one JSON object per line."),
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
    """Run the service: poll on schedule, deliver alerts, answer /status and /healthz."""
    loaded = _load(config, verbose)
    level = logging.DEBUG if verbose else logging.INFO
    configure_logging(level, loaded.secrets.values(), json_lines=log_format is LogFormat.JSON)
    # APScheduler logs every job start and end at INFO; the poll lines already say what happened.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)
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
    if not clean:
        # A job thread is stuck past the deadline (e.g. a Slack post hanging): the outbox keeps
        # anything unmarked, so leave without waiting for it to be joined at interpreter exit.
        logging.shutdown()
        os._exit(0)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="trialwatch")


if __name__ == "__main__":  # pragma: no cover
    main()
