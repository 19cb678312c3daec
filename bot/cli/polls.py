"""`check` and `release`: the commands that poll sources or deliver what a poll held."""

from __future__ import annotations

import shutil
import sys
from typing import Annotated

import typer

from bot.cli.common import (
    ConfigOption,
    collect_from_now,
    database_trouble,
    load_config,
    topic_or_exit,
)
from bot.logs import log_destinations
from bot.terminal_text import one_line

__all__ = ["check", "release"]


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
    from bot.cli.check_summary import Progress, cut, summary_lines
    from state.delivered import delivered_between

    collect_from_now()
    # Each poll's failure is said once, in the summary: without -v no log line repeats it.
    quiet_logs = () if verbose else ("bot.polling.pipeline", "bot.polling.history_import")
    loaded = load_config(config, verbose, errors_only=quiet_logs)
    if verbose:
        log_destinations(loaded)
    width = None if verbose else _terminal_width()
    with database_trouble(loaded, "check"), open_app(loaded) as application:
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
    from bot.app import open_app
    from state.alert_sources import alert_sources

    collect_from_now()
    loaded = load_config(config, False)
    with database_trouble(loaded, "release"), open_app(loaded) as application:
        found = topic_or_exit(application, topic)
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
