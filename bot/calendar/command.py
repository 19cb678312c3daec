"""`trialwatch calendar NAME`: a topic's milestones from stored state, soonest first."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["calendar_command"]


def calendar_command(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="A topic, one of its aliases, or an NCT id."),
    ],
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", metavar="PATH", help="TOML config file."),
    ] = None,
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
    from bot.cli import _database, _load  # the commands' shared config and database errors
    from bot.reader import open_reader
    from bot.terminal_text import one_line
    from bot.topics import UnknownTopicError

    loaded = _load(config, False)
    with _database(loaded, "calendar"), open_reader(loaded) as application:
        try:
            topic = application.resolve_topic(name)
        except UnknownTopicError:
            known = ", ".join(one_line(t.name) for t in application.topics)
            typer.echo(f"unknown topic {one_line(name)!r}; known topics: {known}", err=True)
            raise typer.Exit(1) from None
        today = application.clock().date()
        guidance = guidance_of(loaded.settings, topic.name)
        found = topic_calendar(application.store.engine, topic.name, guidance, today)
    typer.echo(f"{topic.name}: programme calendar", nl=True)
    typer.echo(calendar_table(found, today, past=past), nl=False)
