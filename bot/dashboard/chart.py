"""Pure: a trial's dates across registry versions as a date chart (inline SVG, drawn by pygal).

x is time (each registry version at its version date, the live record at the date it changed),
y is the milestone's date; one line per milestone, a dashed "today" line, actual dates filled
and estimates hollow, each point with an SVG <title> (its date and value) for hover.
pygal draws it server-side; its <script> (config for its optional JS) is removed, so the page
stays script-free. pygal is imported only when a chart is drawn.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.etree.ElementTree import Element

from markupsafe import Markup

from state.timeline import DATE_FIELDS, month_index, shift_words
from state.types import StoredObservation
from watchers.model import RegistryVersion

__all__ = ["COLORS", "MilestonePoint", "date_chart", "milestone_points", "slip_lines"]

# One colour per milestone (start, primary completion, completion), then today's line.
COLORS = ("#1b7837", "#3366aa", "#b35806", "#b00020")
_W, _H = 480, 340


@dataclass(frozen=True)
class MilestonePoint:
    """One stated milestone date: stated on `at` (a registry version or the live record)."""

    label: str  # "Primary completion"
    at: date  # when it was stated: the version date, or the day the live record changed
    value: str  # "2026-12 (estimated)", as stored
    source: str  # "registry v4" or "live record"

    @property
    def month(self) -> int:
        """The stated date as a month index (milestone_points keeps only dates)."""
        return month_index(self.value) or 0

    @property
    def actual(self) -> bool:
        """An actual date (the registry says it happened), not an estimate."""
        return "(actual)" in self.value


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def milestone_points(
    versions: Sequence[RegistryVersion], live: StoredObservation | None, today: date
) -> dict[str, list[MilestonePoint]]:
    """Per milestone label: a point per registry version that states a date, then the live
    record's when it differs from the last version's (at the day it changed, else today)."""
    lines: dict[str, list[MilestonePoint]] = {}
    for field, label in DATE_FIELDS:
        points = [
            MilestonePoint(label, at, value, f"registry v{v.version}")
            for v in versions
            if (value := getattr(v, field)) and month_index(value) is not None
            if (at := _day(v.date)) is not None
        ]
        value = live.observation.fields.get(field) if live else None
        dated = isinstance(value, str) and month_index(value) is not None
        if live and dated and (not points or points[-1].value != value):
            changed = live.field_changed_at.get(field)
            since = changed.date() if changed else today
            points.append(MilestonePoint(label, since, str(value), "live record"))
        if points:
            lines[label] = points
    return lines


def slip_lines(lines: dict[str, list[MilestonePoint]]) -> list[str]:
    """Per milestone, in words: where it stands now and how far it moved since first stated."""
    words = []
    for label, points in lines.items():
        first, last = points[0], points[-1]
        moved = last.month - first.month
        than = "than" if moved else "as"
        first_date = first.value.split(" ")[0]
        words.append(
            f"{label}: {last.value}, {shift_words(moved)} {than} first registered ({first_date})"
        )
    return words


def _ticks(low: int, high: int) -> list[int]:
    """Month indexes to label: every year, or every 3 months when the span is short."""
    step = 12 if high - low > 30 else 3
    first = low - low % step
    return list(range(first, high + step, step))


def _yearly(ticks: Sequence[int]) -> bool:
    return len(ticks) < 2 or ticks[1] - ticks[0] == 12


def _month_text(month: int, yearly: bool) -> str:
    year, index = divmod(month, 12)
    return str(year) if yearly and index == 0 else f"{year}-{index + 1:02d}"


def _first_of(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def _tidy(title: str, milestones: int) -> Any:
    """pygal's XML filter: no <script>, our title, and classes the page and tests can name."""

    def tidy(root: Element) -> Element:
        for node in list(root.iter()):
            if not isinstance(node.tag, str):  # a comment
                continue
            tag, css = node.tag.rsplit("}", 1)[-1], node.get("class", "")
            if tag == "defs":
                for script in [n for n in node if str(n.tag).endswith("script")]:
                    node.remove(script)
            if tag == "title" and node.text == "Pygal":
                node.text = title
            if tag == "g" and css.startswith("series serie-"):
                index = int(css.split()[1].removeprefix("serie-"))
                node.set("class", f"{css} {'milestone' if index < milestones else 'today'}")
        return root

    return tidy


def _pygal() -> Any:
    """pygal, imported on first use (40 ms), without the import hook it installs.

    Importing pygal appends a legacy `sys.meta_path` finder (for its map plugins, unused
    here); on Python 3.11 every import that misses then warns (ImportWarning), e.g.
    uvicorn's optional uvloop. It is removed at once.
    """
    import pygal  # type: ignore[import-untyped]  # (pygal ships no type hints)

    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]
    return pygal


def date_chart(lines: dict[str, list[MilestonePoint]], title: str, today: date) -> Markup:
    """The milestones' lines as inline SVG, with a legend and the slip in words beside it."""
    if not lines:
        return Markup("<p class='empty'>No registry dates known yet.</p>")
    return _drawn(tuple((label, tuple(line)) for label, line in lines.items()), title, today)


# Drawing is half a topic page's CPU, and a trial's dates change once a registry version
# lands: the chart is drawn again only when its points, title or day differ.
@functools.lru_cache(maxsize=64)
def _drawn(
    frozen: tuple[tuple[str, tuple[MilestonePoint, ...]], ...], title: str, today: date
) -> Markup:
    lines = {label: list(line) for label, line in frozen}
    pygal = _pygal()
    from pygal.style import Style  # type: ignore[import-untyped]

    points = [p for line in lines.values() for p in line]
    y_ticks = _ticks(min(p.month for p in points), max(p.month for p in points))
    days = [p.at for p in points] + [today]
    x_ticks = _ticks(*(d.year * 12 + d.month - 1 for d in (min(days), max(days))))
    style = Style(
        font_family="system-ui, sans-serif",
        background="transparent",
        plot_background="#fff",
        colors=COLORS,
        label_font_size=15,
        major_label_font_size=15,
        title_font_size=14,
        stroke_width="2",
        guide_stroke_color="#ccc",
        major_guide_stroke_color="#ccc",
        guide_stroke_dasharray="2,3",
        major_guide_stroke_dasharray="2,3",
    )
    chart = pygal.DateLine(
        js=[],  # no external script; pygal's own CSS is inlined in the SVG
        style=style,
        width=_W,
        height=_H,
        explicit_size=False,
        disable_xml_declaration=True,
        classes=["pygal-chart", "chart"],
        show_legend=False,  # the legend is HTML beside the chart: it wraps on a phone
        show_x_guides=True,
        dots_size=4,
        x_value_formatter=lambda d: _month_text(d.year * 12 + d.month - 1, _yearly(x_ticks)),
        value_formatter=lambda m: _month_text(int(m), False),
        x_labels=[_first_of(m) for m in x_ticks],
        y_labels=[{"value": m, "label": _month_text(m, _yearly(y_ticks))} for m in y_ticks],
        x_title="when stated (registry version date)",
        y_title="date stated",
        margin=8,
        margin_right=24,  # room for the last x label
    )
    chart.add_xml_filter(_tidy(title, len(DATE_FIELDS)))
    for index, (_, label) in enumerate(DATE_FIELDS):  # always all three: fixed colours
        chart.add(label, [_point(p, COLORS[index]) for p in lines.get(label, [])])
    chart.add(
        "Today",
        [(today, y_ticks[0]), (today, y_ticks[-1])],
        show_dots=False,
        stroke_style={"dasharray": "6,4", "width": 2},
    )
    svg = chart.render(is_unicode=True)
    slips = Markup("").join(Markup("<li>{}</li>").format(w) for w in slip_lines(lines))
    # pygal's SVG is serialised by xml.etree, which escapes every text and attribute.
    return Markup(  # noqa: S704
        f"<figure class='dates'>{svg}<figcaption>{_legend(lines)}"
        f"<ul class='slips'>{slips}</ul></figcaption></figure>"
    )


def _point(point: MilestonePoint, color: str) -> dict[str, Any]:
    kind = "actual" if point.actual else "estimated"
    fill = color if point.actual else "#fff"
    return {
        "value": (point.at, point.month),
        "tooltip": f"{point.label} {point.value}: stated {point.at.isoformat()} ({point.source})",
        "style": f"fill:{fill};stroke:{color};stroke-width:2",
        "label": kind,
    }


def _legend(lines: dict[str, list[MilestonePoint]]) -> Markup:
    keys = [
        Markup("<span class='key'><i style='background:{}'></i>{}</span>").format(COLORS[i], label)
        for i, label in enumerate(label for _, label in DATE_FIELDS)
        if label in lines
    ]
    keys += [
        Markup("<span class='key'><b class='dot actual'></b>actual date</span>"),
        Markup("<span class='key'><b class='dot estimated'></b>estimated date</span>"),
        Markup("<span class='key'><i class='today'></i>today</span>"),
    ]
    return Markup("<p class='legend'>") + Markup("").join(keys) + Markup("</p>")
