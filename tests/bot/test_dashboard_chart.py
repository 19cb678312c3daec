"""The date chart: points at their version dates on a time axis, a today line, actual dates
drawn unlike estimates, each point's date and value on hover, and the slip in words."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from defusedxml.ElementTree import fromstring

from bot.dashboard.chart import date_chart, milestone_points
from state.types import StoredObservation
from tests.factories import T0, trial
from watchers.model import RegistryVersion

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2024, 12, 1)


def version(n: int, on: str, primary: str, start: str = "2023-05 (estimated)") -> RegistryVersion:
    return RegistryVersion(
        "NCT04768972", n, on, "RECRUITING", start, primary, None, None, module_labels=()
    )


def drawn(versions: list[RegistryVersion], live: StoredObservation | None = None) -> str:
    return str(date_chart(milestone_points(versions, live, TODAY), "NCT04768972 dates", TODAY))


def points(html: str, series: str = "Primary completion") -> list[tuple[float, str, str]]:
    """(x, <title>, style) of each point of one milestone's line, left to right as drawn."""
    svg = fromstring(html[html.index("<svg") : html.index("</svg>") + 6])
    found = []
    for group in svg.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        text = title.text or "" if title is not None else ""
        if "dots" in group.get("class", "").split() and text.startswith(series):
            circle = group.find(f"{SVG}circle")
            assert circle is not None
            found.append((float(circle.get("cx", "")), text, group.get("style", "")))
    return found


def today_x(html: str) -> float:
    svg = fromstring(html[html.index("<svg") : html.index("</svg>") + 6])
    [path] = [
        path
        for g in svg.iter(f"{SVG}g")
        if "today" in g.get("class", "").split()
        for path in g.iter(f"{SVG}path")
    ]
    return float(re.findall(r"M([\d.]+)", path.get("d", ""))[0])


def test_points_sit_at_their_version_dates_not_one_step_per_version() -> None:
    html = drawn(
        [
            version(1, "2024-01-01", "2025-06 (estimated)"),
            version(2, "2024-07-01", "2025-09 (estimated)"),  # 182 days later
            version(3, "2024-08-01", "2026-03 (estimated)"),  # 31 days later
        ]
    )
    (x1, _, _), (x2, _, _), (x3, _, _) = points(html)
    assert x1 < x2 < x3
    assert (x2 - x1) / (x3 - x2) == pytest.approx(182 / 31, rel=0.01)
    # Today (2024-12-01) is 122 days after the last version, on the same scale.
    assert (today_x(html) - x3) / (x3 - x2) == pytest.approx(122 / 31, rel=0.01)


def test_each_point_tells_its_date_and_value_and_actual_differs_from_estimated() -> None:
    html = drawn(
        [
            version(1, "2024-01-01", "2024-06 (estimated)"),
            version(2, "2024-09-15", "2024-08-20 (actual)"),
        ]
    )
    (_, estimated, estimated_style), (_, actual, actual_style) = points(html)
    assert estimated == "Primary completion 2024-06 (estimated): stated 2024-01-01 (registry v1)"
    assert actual == "Primary completion 2024-08-20 (actual): stated 2024-09-15 (registry v2)"
    assert "fill:#fff" in estimated_style and "fill:#fff" not in actual_style
    assert "actual date" in html and "estimated date" in html  # the legend says which is which
    assert "<script" not in html and " src=" not in html


def test_one_line_per_milestone_and_the_slip_in_words() -> None:
    html = drawn(
        [
            version(1, "2024-01-01", "2025-06 (estimated)"),
            version(2, "2024-07-01", "2026-09 (estimated)", start="2023-05-02 (actual)"),
        ]
    )
    assert len(points(html, "Start")) == 2 and len(points(html)) == 2
    assert "Primary completion: 2026-09 (estimated), 15 months later than first registered" in html
    assert "Start: 2023-05-02 (actual), the same month as first registered (2023-05)" in html


def test_the_live_record_is_a_point_at_the_day_it_changed() -> None:
    changed = datetime(2024, 10, 3, tzinfo=T0.tzinfo)
    live = StoredObservation(
        trial(primary_completion_date="2027-01 (estimated)"),
        first_seen=T0 - timedelta(days=900),
        last_seen=changed,
        last_changed=changed,
        field_changed_at={"primary_completion_date": changed},
    )
    html = drawn([version(1, "2024-01-01", "2025-06 (estimated)")], live)
    (x1, _, _), (x2, title, _) = points(html)
    assert title == "Primary completion 2027-01 (estimated): stated 2024-10-03 (live record)"
    assert x1 < x2 < today_x(html)


def test_a_hostile_value_is_text_in_the_svg() -> None:
    html = drawn([version(1, "2024-01-01", "2025-06 <script>x</script>")])
    assert "<script" not in html
    assert "2025-06 &lt;script&gt;x&lt;/script&gt;" in html


def test_a_chart_is_drawn_again_only_when_its_points_or_day_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.dashboard.chart as chart

    kept = getattr(chart, "_drawn", None)
    if kept is not None:
        kept.cache_clear()  # earlier tests in this process drew charts too
    draws: list[int] = []
    real = chart._pygal
    monkeypatch.setattr(chart, "_pygal", lambda: draws.append(1) or real())
    versions = [version(1, "2024-01-10", "2026-01 (estimated)")]
    first = drawn(versions)
    assert drawn(versions) == first and len(draws) == 1  # every page request of the same data
    moved = [*versions, version(2, "2024-06-03", "2026-07 (estimated)")]
    assert "2026-07" in drawn(moved) and len(draws) == 2
    later = date_chart(
        milestone_points(versions, None, TODAY), "NCT04768972 dates", date(2025, 1, 2)
    )
    assert later != first and len(draws) == 3  # a new day moves the today line
