"""`trialwatch ...`: the command-line entry point; each command group is one module here."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from bot.cli import digest, polls, reads, service
from bot.cli.help import PlainCommand

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


# The commands, in the order --help lists them.
app.command(cls=PlainCommand, short_help="Poll every source once, store, deliver alerts.")(
    polls.check
)
app.command(cls=PlainCommand, short_help="Show what is stored for a topic (no polling).")(
    reads.status
)
app.command("calendar", cls=PlainCommand, short_help="List a topic's milestones, soonest first.")(
    reads.calendar
)
app.command(cls=PlainCommand, short_help="Answer MCP clients on stdio (read-only).")(reads.mcp)
app.command(cls=PlainCommand, short_help="Write a topic's dashboard page as one HTML file.")(
    reads.report
)
app.command(cls=PlainCommand, short_help="Post, or drop, the alerts held from a storm.")(
    polls.release
)
app.command(cls=PlainCommand, short_help="Print the daily email digest; --send mails it.")(
    digest.digest
)
app.command(cls=PlainCommand, short_help="Run the service: scheduled polls, delivery, HTTP.")(
    service.run
)


def main() -> None:
    """Console-script entry point."""
    # Start-up builds hundreds of thousands of long-lived objects (modules, config, table
    # metadata) and next to no garbage: the cyclic collector would scan them again and again,
    # a fifth of a `status`. Commands that run long turn it back on (common.collect_from_now); one
    # that did not is frozen at exit rather than scanned once more (issue 10: a fast start).
    gc.disable()
    try:
        app(prog_name="trialwatch")
    finally:
        if not gc.isenabled():
            gc.freeze()
