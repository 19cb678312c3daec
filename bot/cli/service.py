"""`run`: the long-running service (scheduled polls, delivery, the HTTP endpoints)."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, collect_from_now, load_config, service_logging
from bot.logs import log_destinations

__all__ = ["LogFormat", "run"]


class LogFormat(StrEnum):
    PLAIN = "plain"
    JSON = "json"


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

    collect_from_now()
    loaded = load_config(config, verbose)
    level = logging.DEBUG if verbose else logging.INFO
    service_logging(loaded, level, json_lines=log_format is LogFormat.JSON)
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
