"""`digest`: print the daily email digest, or mail it with --send."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, collect_from_now, database_trouble, load_config

__all__ = ["digest"]


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

    collect_from_now()
    loaded = load_config(config, False)
    if force and not send:
        typer.echo("--force only applies together with --send", err=True)
        raise typer.Exit(2)
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        typer.echo(f"--day {day!r} is not a date like 2026-11-22", err=True)
        raise typer.Exit(2) from None
    with database_trouble(loaded, "digest"), open_app(loaded) as application:
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
