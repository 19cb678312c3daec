"""`status` and `report`: read stored state only (no polling, no HTTP, no Slack)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, database_trouble, load_config, topic_or_exit
from bot.terminal_text import one_line

__all__ = ["calendar", "mcp", "report", "status"]


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
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="PERIOD", help="Only alerts since: 7d, 24h, 2w or a date."),
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option(
            "--severity",
            metavar="LEVEL",
            help="Only alerts this loud or louder: high, normal, low.",
        ),
    ] = None,
) -> None:
    """Show a topic's trials, latest alerts and source health from stored state (no polling).

    \b
    Example:
      trialwatch status ulefnersen
      trialwatch status ulefnersen --unacked
      trialwatch status ulefnersen --all
      trialwatch status ulefnersen --since 7d --severity high
    """
    from bot.read.filtered_status import filtered_card
    from bot.read_only import open_reader
    from bot.status.terminal import status_text
    from bot.status.triage_lines import unacked_lines
    from state.status import CARD_ALERTS

    loaded = load_config(config, False)
    # The store only: no HTTP, Slack or destinations to build (a quick start, issue 10).
    with database_trouble(loaded, "status"), open_reader(loaded) as application:
        topic = topic_or_exit(application, name, list_known=True)
        now = application.clock()
        if unacked:
            for line in unacked_lines(application.store.unacknowledged(topic.name, now)):
                typer.echo(one_line(line))
            return
        status_card = application.topic_status(topic.name, alerts=None if every else CARD_ALERTS)
        if since or severity:  # the same card, its alerts and count those the filter matches
            try:
                status_card = filtered_card(application, status_card, since, severity, every=every)
            except ValueError as exc:  # FilterError: what the option accepts
                typer.echo(f"trialwatch status: {exc}", err=True)
                raise typer.Exit(2) from None
        typer.echo(status_text(topic, status_card, now=now))


def mcp(config: ConfigOption = None) -> None:
    """Speak the Model Context Protocol on stdin/stdout, answering from stored state only."""
    from bot.read.mcp_server import serve_stdio

    serve_stdio(load_config(config, False))


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
    from bot.calendar.read import guidance_of
    from bot.dashboard.serve import render_topic
    from bot.read_only import open_reader

    loaded = load_config(config, False)
    with database_trouble(loaded, "report"), open_reader(loaded) as application:
        topic = topic_or_exit(application, name)
        guidance = guidance_of(loaded.settings, topic.name)
        page = render_topic(application.store, topic, application.clock(), guidance=guidance)
    try:
        html.write_text(page, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"could not write {html}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {html} ({len(page.encode()):,} bytes)")


def calendar(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="A topic, one of its aliases, or an NCT id."),
    ],
    config: ConfigOption = None,
    past: Annotated[
        bool, typer.Option("--past", help="List the milestones gone by instead, latest first.")
    ] = False,
) -> None:
    """List a topic's milestones: trial dates, results due, advisory committee meetings and
    the team's guidance, each with its confidence, source and slips (no polling).

    \b
    Example:
      trialwatch calendar ulefnersen
      trialwatch calendar ulefnersen --past
    """
    from bot.calendar.read import guidance_of, topic_calendar
    from bot.calendar.table import calendar_table
    from bot.read_only import open_reader

    loaded = load_config(config, False)
    with database_trouble(loaded, "calendar"), open_reader(loaded) as application:
        topic = topic_or_exit(application, name, list_known=True)
        today = application.clock().date()
        guidance = guidance_of(loaded.settings, topic.name)
        found = topic_calendar(application.store.engine, topic.name, guidance, today)
    typer.echo(f"{topic.name}: programme calendar", nl=True)
    typer.echo(calendar_table(found, today, past=past), nl=False)
