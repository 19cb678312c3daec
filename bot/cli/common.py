"""What every command shares: the --config option, loading it, database trouble as one line."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Protocol

import typer

from bot.config import ConfigError, LoadedConfig, load_settings
from bot.logs import configure_logging
from bot.terminal_text import one_line
from bot.topics import UnknownTopicError
from watchers.model import Topic

__all__ = [
    "ConfigOption",
    "collect_from_now",
    "database_trouble",
    "load_config",
    "service_logging",
    "topic_or_exit",
]

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


@contextmanager
def database_trouble(loaded: LoadedConfig, command: str) -> Iterator[None]:
    """Database trouble (unreachable, read-only, corrupt) as one sentence and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db_errors import describe_database_error

    try:
        yield
    except (SQLAlchemyError, PermissionError) as exc:
        message = describe_database_error(loaded.settings.storage.url, exc)
        typer.echo(f"trialwatch {command}: {message}", err=True)
        raise typer.Exit(1) from None


def load_config(
    config: str | None, verbose: bool, errors_only: tuple[str, ...] = ()
) -> LoadedConfig:
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


def service_logging(loaded: LoadedConfig, level: int, *, json_lines: bool) -> None:
    """The service's logging: the same redacting set-up as every command's, at its level."""
    configure_logging(level, loaded.secrets.values(), json_lines=json_lines)


def collect_from_now() -> None:
    """This command may run long (polls, the service): collect cyclic garbage again. What
    start-up built is frozen: kept for good, and never scanned."""
    gc.freeze()
    gc.enable()


class _FindsTopics(Protocol):
    topics: list[Topic]

    def resolve_topic(self, name: str) -> Topic: ...


def topic_or_exit(application: _FindsTopics, name: str, *, list_known: bool = False) -> Topic:
    """The topic NAME names (its name, an alias or a trial id), else exit 1 saying so."""
    try:
        return application.resolve_topic(name)
    except UnknownTopicError:
        known = ", ".join(one_line(t.name) for t in application.topics)
        extra = f"; known topics: {known}" if list_known else ""
        typer.echo(f"unknown topic {one_line(name)!r}{extra}", err=True)
        raise typer.Exit(1) from None
