"""bench/day_of_service.py's arithmetic and tables: windows scaled to a day, medians of runs."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DAY = 86400.0
Load = tuple[float, float, float]


@dataclass(frozen=True)
class Idle:
    """The service at its real intervals with nothing due: what it costs per second of wall."""

    wall: float
    cpu: float
    requests: int  # the web's count in the idle window: 0 unless a poll was due after all


@dataclass(frozen=True)
class Window:
    """What one tool did in one measured window of wall time."""

    tool: str
    wall: float  # seconds measured
    cpu: float  # CPU-seconds in the window
    peak_rss_mb: float
    db_growth: int  # bytes the database (or urlwatch's caches) grew in the window
    requests: int
    not_modified: int
    bytes_out: int
    polls: int  # source polls (trialwatch: poll_run rows; urlwatch: URL jobs run)
    polls_due: float  # per simulated day, had every interval been kept
    idle: Idle | None = None  # None: no process between polls (urlwatch from cron)
    load: tuple[Load, Load] = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))  # at the start, at the end


def per_day(amount: float, wall: float, scale: float) -> float:
    """`amount` seen in `wall` seconds at `scale` times real speed, as per simulated day."""
    return amount * DAY / (wall * scale)


def cpu_per_day(window: Window, scale: float) -> tuple[float, float]:
    """CPU-seconds per day as (polling, idle): idle work is paid per real second, so it is
    counted for a real 24 h; only the window's CPU above the idle rate is scaled as polling."""
    if window.idle is None:
        return per_day(window.cpu, window.wall, scale), 0.0
    rate = window.idle.cpu / window.idle.wall
    # On a loaded machine the idle rate may exceed the window's: polling is then nothing, not less.
    polling = max(0.0, window.cpu - rate * window.wall)
    return per_day(polling, window.wall, scale), rate * DAY


def cell(values: Sequence[float], show: Callable[[float], str]) -> str:
    """The median of the runs, with their range when there is more than one."""
    middle = show(statistics.median(values))
    if len(values) < 2:
        return middle
    return f"{middle} [{show(min(values))}-{show(max(values))}]"


def table(runs: Sequence[Sequence[Window]], scale: float) -> list[str]:
    """One row per tool, each figure per simulated day as the median [min-max] of the runs."""
    rows = [
        "| tool | CPU-s per day | of which polling | of which idle | peak RSS "
        "| database growth per day | requests per day | 304s per day | bytes served per day "
        "| polls per day (due) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for windows in zip(*runs, strict=True):
        cpu = [cpu_per_day(w, scale) for w in windows]

        def daily(field: Callable[[Window], float], ws: Sequence[Window] = windows) -> list[float]:
            return [per_day(field(w), w.wall, scale) for w in ws]

        idle = "none (cron)" if windows[0].idle is None else cell([c[1] for c in cpu], _seconds)
        cells = [
            windows[0].tool,
            cell([sum(c) for c in cpu], _seconds),
            cell([c[0] for c in cpu], _seconds),
            idle,
            cell([w.peak_rss_mb for w in windows], lambda v: f"{v:.0f} MB"),
            cell(daily(lambda w: w.db_growth), lambda v: f"{v / 1e6:.2f} MB"),
            cell(daily(lambda w: w.requests), _count),
            cell(daily(lambda w: w.not_modified), _count),
            cell(daily(lambda w: w.bytes_out), lambda v: f"{v / 1e6:.1f} MB"),
            f"{cell(daily(lambda w: w.polls), _count)} ({_count(windows[0].polls_due)})",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def load_table(runs: Sequence[Sequence[Window]]) -> list[str]:
    """The load average (1, 5, 15 min) at the start and the end of each tool's run."""
    rows = ["| run | tool | load at start | load at end |", "|---|---|---|---|"]
    for number, windows in enumerate(runs, 1):
        for w in windows:
            rows.append(f"| {number} | {w.tool} | {_load(w.load[0])} | {_load(w.load[1])} |")
    return rows


def idle_note(runs: Sequence[Sequence[Window]]) -> str:
    """Whether every idle measurement was idle: a poll in it would count as idle cost."""
    idles = [w.idle for windows in runs for w in windows if w.idle is not None]
    seen = sum(i.requests for i in idles)
    if not seen:
        return "The web saw no request during any idle window: nothing was due."
    return f"The web saw {seen} requests during the idle windows: their CPU counts as idle."


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _load(load: Load) -> str:
    return ", ".join(f"{n:.1f}" for n in load)
