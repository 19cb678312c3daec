"""Plain help for the CLI: app text printed as written, arguments as NAME, no type placeholders.

Typer's Rich help reads `[digest]` as markup (it vanishes) and prints `<bool>`/`<str>` after
every parameter; click's plain layout, with our own argument rows, says what a user types.
"""

from __future__ import annotations

# Typer 0.29 vendors its own click (pinned in pyproject.toml): its types, not click's.
from typer._click.core import Context, Parameter
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand

__all__ = ["PlainCommand"]


class PlainCommand(TyperCommand):
    """A command whose usage line and help show arguments as their metavar (e.g. NAME)."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if _is_argument(param):
                pieces.append(_argument_name(param))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            if _is_argument(param):
                arguments.append((_argument_name(param), getattr(param, "help", None) or ""))
            elif (record := param.get_help_record(ctx)) is not None:
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


def _is_argument(param: Parameter) -> bool:
    return param.param_type_name == "argument"


def _argument_name(param: Parameter) -> str:
    name = param.metavar or (param.name or "").upper()
    return name if param.required else f"[{name}]"
