"""Pure: the topic page's alert filters as a GET form (severity, source, trial, since), so a
filtered list is a link anyone can share and works without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from state.fields import source_label
from state.types import Severity

__all__ = ["FILTER_PARAMS", "filter_form"]

FILTER_PARAMS = ("severity", "source", "trial", "since")


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> Markup:
    items = "".join(
        f"<option value='{escape(value)}'{' selected' if value == chosen else ''}>"
        f"{escape(words)}</option>"
        for value, words in [("", "any"), *options]
    )
    return Markup(  # noqa: S704 (every value escaped above)
        f"<label>{escape(label)} <select name='{name}'>{items}</select></label> "
    )


def filter_form(
    given: Mapping[str, str], sources: Sequence[str], trials: Sequence[str], error: str | None
) -> Markup:
    """The form, showing the filters `given`; `error`: why a value was not understood."""
    severities = [(s.value, f"{s.value} or louder") for s in Severity]
    since = escape(given.get("since", ""))
    fields = Markup("").join(
        (
            _select("severity", "Severity", severities, given.get("severity", "")),
            _select(
                "source", "Source", [(s, source_label(s)) for s in sources], given.get("source", "")
            ),
            _select("trial", "Trial", [(t, t) for t in trials], given.get("trial", "")),
            Markup(  # noqa: S704 (escaped)
                f"<label>Since <input name='since' value='{since}' size='10' "
                "placeholder='7d or 2026-01-31'></label> "
            ),
        )
    )
    problem = Markup("<p class='failing'>{}</p>").format(error) if error else Markup("")
    return Markup(
        "<form class='filters' method='get'>{}<button type='submit'>Filter</button> "
        "<a href='?'>clear</a></form>{}"
    ).format(fields, problem)
