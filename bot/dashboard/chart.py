"""Pure: a trial's primary-completion estimate across registry versions and live changes, as
inline SVG (server-rendered, no script, no external requests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from state.timeline import month_index
from watchers.model import RegistryVersion

__all__ = ["ChartPoint", "chart_points", "completion_chart"]

_W, _H, _PAD = 640, 220, 40


@dataclass(frozen=True)
class ChartPoint:
    """One estimate: when it was stated (label) and the date it gave."""

    label: str
    value: str
    live: bool = False


def chart_points(
    versions: Sequence[RegistryVersion], live_value: str | None, live_since: str | None
) -> list[ChartPoint]:
    """One point per registry version, plus the live record when it says something newer."""
    points = [
        ChartPoint(f"v{v.version} {v.date}", v.primary_completion_date)
        for v in versions
        if v.primary_completion_date and month_index(v.primary_completion_date) is not None
    ]
    live_known = live_value and month_index(live_value) is not None
    if live_known and live_value and (not points or points[-1].value != live_value):
        points.append(ChartPoint(f"live {live_since or ''}".strip(), live_value, live=True))
    return points


def completion_chart(points: Sequence[ChartPoint], title: str) -> Markup:
    """An SVG line chart: x = each version in order, y = the primary completion month."""
    if not points:
        return Markup("<p class='empty'>No primary completion date known yet.</p>")
    months = [month_index(p.value) or 0 for p in points]
    low, high = min(months), max(months)
    span = max(1, high - low)
    step = (_W - 2 * _PAD) / max(1, len(points) - 1)

    def xy(i: int, month: int) -> tuple[float, float]:
        return _PAD + i * step, _H - _PAD - (month - low) * (_H - 2 * _PAD) / span

    coords = [xy(i, m) for i, m in enumerate(months)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f"<svg class='chart' role='img' viewBox='0 0 {_W} {_H}' width='{_W}' height='{_H}' "
        f"xmlns='http://www.w3.org/2000/svg'><title>{escape(title)}</title>",
        f"<polyline fill='none' stroke='#3366aa' stroke-width='2' points='{path}'/>",
    ]
    for (x, y), point in zip(coords, points, strict=True):
        css = "point live" if point.live else "point"
        parts.append(
            f"<circle class='{css}' cx='{x:.1f}' cy='{y:.1f}' r='5'>"
            f"<title>{escape(point.label)}: {escape(point.value)}</title></circle>"
            f"<text x='{x:.1f}' y='{y - 10:.1f}' font-size='10' text-anchor='middle'>"
            f"{escape(point.value.split(' ')[0])}</text>"
        )
    parts.append("</svg>")
    # Every interpolated value above went through escape() or is a number.
    return Markup("".join(parts))  # noqa: S704
