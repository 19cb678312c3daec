"""The digest as email text: subject, plain text and HTML, rendered from Jinja2 templates.

The HTML template is autoescaped (feed titles and errors can hold markup); the text template is
not, so `&` and `<b>` read as written in the plain part.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.digest.assemble import Digest
from bot.terminal_text import one_line

__all__ = ["digest_subject", "quiet_line", "render_html", "render_text", "summary_line"]


def _one_line(value: Any) -> Any:
    # Every {{ }} in the templates is a one-line field: source text may hold escape sequences
    # (read in a terminal as the text part) or a newline that would forge a digest line.
    if isinstance(value, str) and not isinstance(value, Markup):
        return one_line(value)
    return value


_ENV = Environment(
    loader=PackageLoader("bot.digest", "templates"),
    # On for *.html.j2 (and *.html), off for *.txt.j2 and for strings.
    autoescape=select_autoescape(
        enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
    ),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    finalize=_one_line,
)


_COLOURS = {"high": "#c0392b", "normal": "#b7950b", "low": "#7f8c8d"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _failing(digest: Digest) -> str:
    return _plural(len({f.label for f in digest.failing}), "source")


def summary_line(digest: Digest) -> str:
    """`3 new events (1 high)`, `1 new event`, or `no new events`."""
    if digest.quiet:
        return "no new events"
    text = _plural(digest.events, "new event")
    return f"{text} ({digest.high} high)" if digest.high else text


def quiet_line(digest: Digest) -> str:
    """What a day without alerts says; honest about sources that could not be checked."""
    if digest.failing:
        return f"No new events; but {_failing(digest)} failing (see Sources below)."
    if not digest.healthy:
        return "No new events; no source has been checked yet."
    return "No new events; all sources checked."


def digest_subject(digest: Digest) -> str:
    """E.g. `trialwatch digest 2026-11-22: 3 new events (1 high)`."""
    subject = f"trialwatch digest {digest.day.isoformat()}: {summary_line(digest)}"
    if digest.failing:
        subject += f", {_failing(digest)} failing"
    return subject


def _context(digest: Digest) -> dict[str, Any]:
    day = digest.day
    return {
        "digest": digest,
        "subject": digest_subject(digest),
        "summary": summary_line(digest),
        "quiet_line": quiet_line(digest),
        "day_label": f"{day:%A} {day.day} {day:%B %Y}",
        "colours": _COLOURS,
    }


def render_text(digest: Digest) -> str:
    """The plain-text part (not HTML-escaped)."""
    return _ENV.get_template("digest.txt.j2").render(_context(digest))


def render_html(digest: Digest) -> str:
    """The HTML part (autoescaped, inline styles only)."""
    return _ENV.get_template("digest.html.j2").render(_context(digest))
