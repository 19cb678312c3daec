"""A day of service: `trialwatch run` against urlwatch from cron, on one loopback web.

    .venv/bin/python bench/day_of_service.py [--scale 480] [--topics 20] [--runs 3]
        [--idle 60] [--quick] [--out PATH]

The embedded defaults (bot/default_config.toml) with 20 topics, every source pointed at
bench/day_web.py (recorded payloads; one loopback address per real host) and every interval
divided by --scale, so 24 h / scale of wall time is one simulated day; per-host pacing is
scaled the same way (`[http] min_interval = 1 s / scale`). After a warm-up (the service's
first polls come within its first minute; urlwatch runs each job list once), each tool is
measured for that window: CPU (process and reaped children), peak RSS, database or cache growth
and the requests the web answered, multiplied back to a day. What the service costs per second
of wall time whatever its intervals (scheduler, the minute's flush, the HTTP server) is
measured apart, with the real intervals and nothing due, and counted for a real 24 h
(bench/day_report.py). urlwatch 2.29 (bench/.venv-urlwatch, installed by bench/vs_urlwatch.py
on first use) watches the same GET URLs trialwatch fetched, one cron line per interval, a run
skipped while the previous one of its line still runs. --runs alternating runs of both tools.
Writes bench/results/<date>-day-of-service.md (or --out). Loopback only; bounded; stops what
it starts, also on an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen

# Run as `python bench/day_of_service.py`, bench/ is on sys.path but the repository is not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.day_config import DEFAULTS, cron_lines, day_config, source_intervals
from bench.day_processes import (
    DayWebProcess,
    cpu_seconds,
    peak_rss_mb,
    raise_on_sigterm,
    started,
    stop,
    wait_alive,
    wait_listening,
    wait_quiet,
)
from bench.day_report import DAY, Idle, Window, idle_note, load_table, table
from bench.vs_urlwatch import (
    BENCH,
    TRIALWATCH,
    compile_trialwatch,
    ensure_urlwatch,
    free_port,
    urlwatch_setup,
)

WARM_UP = 60.0  # wall seconds: the service's first polls all start within its first 50
START_UP = 60.0  # wall seconds the restarted service gets to answer on its port
QUIET, QUIET_LIMIT = 10.0, 120.0  # idle once the web saw no request for 10 s (within 2 min)


def _poll_runs(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        return int(connection.execute("SELECT count(*) FROM poll_run").fetchone()[0])


def _size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


@contextmanager
def _service(config: Path, work: Path, log: Path) -> Iterator[Popen[bytes]]:
    """`trialwatch run` on `config`, its output in `log`, stopped when the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMTP_"))}
    command = [str(TRIALWATCH), "run", "--config", str(config)]
    with (
        log.open("wb") as out,
        started(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT) as child,
    ):
        yield child


def measure_trialwatch(
    web: DayWebProcess, work: Path, scale: float, topics: int, idle_seconds: float
) -> Window:
    """`trialwatch run` with the defaults on loopback: warm-up, one measured window of a
    simulated day, then the service at its real intervals for `idle_seconds` with nothing due."""
    load_start = os.getloadavg()
    db, config, log = work / "tw.db", work / "trialwatch.toml", work / "run.log"
    text = day_config(DEFAULTS.read_text(encoding="utf-8"), web_port=web.port, scale=scale,
                      topics=topics, db=db, server_port=free_port())  # fmt: skip
    config.write_text(text, encoding="utf-8")
    with _service(config, work, log) as child:
        wait_alive(child, time.monotonic() + WARM_UP, log)
        web.call("/_reset")
        cpu0, size0, started_at = (
            cpu_seconds(child.pid),
            _size(db, work / "tw.db-wal"),
            time.monotonic(),
        )
        polls0 = _poll_runs(db)
        wait_alive(child, started_at + DAY / scale, log)
        wall = time.monotonic() - started_at
        cpu, rss = cpu_seconds(child.pid) - cpu0, peak_rss_mb(child.pid)
        growth = _size(db, work / "tw.db-wal") - size0
        polls = _poll_runs(db) - polls0
        stats = web.call("/_stats")
    (work / "urls.json").write_text(json.dumps(stats["urls"]), encoding="utf-8")
    idle = measure_idle(web, work, scale, topics, idle_seconds)
    intervals = source_intervals(text, scale).values()
    due = topics * sum(DAY / interval for interval in intervals)
    window = _window("trialwatch run", (wall, cpu, rss, growth), stats, (polls, due))
    return replace(window, idle=idle, load=(load_start, os.getloadavg()))


def measure_idle(
    web: DayWebProcess, work: Path, scale: float, topics: int, seconds_idle: float
) -> Idle:
    """The service restarted on the window's database at the real intervals: every source was
    just polled, so none is due for at least 13 minutes; its CPU then is what idling costs."""
    db, config, log = work / "tw.db", work / "idle.toml", work / "idle.log"
    port = free_port()
    # Pacing stays scaled: it only matters to a poll, and none is due.
    text = day_config(DEFAULTS.read_text(encoding="utf-8"), web_port=web.port, scale=1.0,
                      topics=topics, db=db, server_port=port, pace=scale)  # fmt: skip
    config.write_text(text, encoding="utf-8")
    with _service(config, work, log) as child:
        wait_listening(child, port, log, limit=START_UP)
        # A source whose last poll failed is due at once: let those polls and the first flush end.
        wait_quiet(child, web, log, quiet=QUIET, limit=QUIET_LIMIT)
        requests0, cpu0, started_at = web.requests(), cpu_seconds(child.pid), time.monotonic()
        wait_alive(child, started_at + seconds_idle, log)
        cpu, wall = cpu_seconds(child.pid) - cpu0, time.monotonic() - started_at
        return Idle(wall, cpu, web.requests() - requests0)


def _window(
    tool: str,
    figures: tuple[float, float, float, int],
    stats: dict[str, object],
    polls: tuple[int, float],
) -> Window:
    def count(key: str) -> int:
        value = stats[key]
        assert isinstance(value, int)
        return value

    wall, cpu, rss, growth = figures
    return Window(tool, wall, cpu, rss, growth, count("requests"), count("not_modified"),
                  count("bytes_out"), *polls)  # fmt: skip


def measure_urlwatch(
    web: DayWebProcess, work: Path, scale: float, lines: dict[float, list[str]], version: str
) -> Window:
    """urlwatch from cron: one job list per interval, each run every interval / scale."""
    load_start = os.getloadavg()
    commands = {}
    for interval, urls in lines.items():
        (work / f"{interval:.0f}").mkdir()
        commands[interval] = urlwatch_setup(work / f"{interval:.0f}", urls)
    caches = [work / f"{interval:.0f}" / "cache.db" for interval in lines]
    for command in commands.values():  # warm-up: the first run fills each cache
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    web.call("/_reset")
    size0, started_at = _size(*caches), time.monotonic()
    due = dict.fromkeys(lines, started_at)
    running: dict[float, Popen[bytes]] = {}  # held: else subprocess reaps them
    cpu = rss = 0.0
    polls = 0
    try:
        while running or time.monotonic() < started_at + DAY / scale:
            now = time.monotonic()
            for interval, command in commands.items():
                if (
                    now < started_at + DAY / scale
                    and interval not in running
                    and now >= due[interval]
                ):
                    polls += len(lines[interval])
                    running[interval] = subprocess.Popen(
                        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                    while due[interval] <= now:  # like `flock -n`: a tick missed while busy is gone
                        due[interval] += interval / scale
            for interval, child in list(running.items()):
                done, status, usage = os.wait4(child.pid, os.WNOHANG)
                if done:
                    child.returncode = os.waitstatus_to_exitcode(status)
                    cpu += usage.ru_utime + usage.ru_stime
                    rss = max(rss, usage.ru_maxrss / 1024)
                    del running[interval]
            time.sleep(0.02)
    finally:
        for child in running.values():  # only on an error or Ctrl-C: else the loop waited
            stop(child)
    wall = time.monotonic() - started_at
    due_per_day = sum(len(urls) * DAY / interval for interval, urls in lines.items())
    figures = (wall, cpu, rss, _size(*caches) - size0)
    window = _window(version, figures, web.call("/_stats"), (polls, due_per_day))
    return replace(window, load=(load_start, os.getloadavg()))


def one_run(
    web: DayWebProcess, work: Path, args: argparse.Namespace, scale: float, version: str
) -> tuple[Window, Window, dict[float, list[str]], int]:
    """trialwatch, then urlwatch on the URLs it fetched: the two windows, cron lines, URLs."""
    (work / "tw").mkdir()
    tw = measure_trialwatch(web, work / "tw", scale, args.topics, args.idle)
    config = (work / "tw" / "trialwatch.toml").read_text(encoding="utf-8")
    urls = json.loads((work / "tw" / "urls.json").read_text(encoding="utf-8"))
    lines = cron_lines(urls, source_intervals(config, scale))
    (work / "uw").mkdir()
    uw = measure_urlwatch(web, work / "uw", scale, lines, version)
    return tw, uw, lines, len(urls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=480.0, help="simulated / real time")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each tool")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measured")
    parser.add_argument("--quick", action="store_true", help="--scale 900: 96 s per tool")
    parser.add_argument("--out", type=Path, help="default bench/results/<date>-day-of-service.md")
    args = parser.parse_args()
    if args.runs < 1 or args.idle <= 0:
        parser.error("--runs must be at least 1 and --idle positive")
    scale = 900.0 if args.quick else args.scale
    raise_on_sigterm()
    compile_trialwatch()
    version = ensure_urlwatch()
    runs: list[tuple[Window, Window]] = []
    web = DayWebProcess(hosts=12, scale=scale)
    try:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
                tw, uw, lines, n_urls = one_run(web, Path(tmp), args, scale, version)
            runs.append((tw, uw))
    finally:
        web.stop()
    out = report(runs, args, scale, version, lines, n_urls)
    path = args.out or BENCH / "results" / f"{datetime.now(UTC):%Y-%m-%d}-day-of-service.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))
    print(f"wrote {path}")


def report(
    runs: list[tuple[Window, Window]],
    args: argparse.Namespace,
    scale: float,
    version: str,
    lines: dict[float, list[str]],
    n_urls: int,
) -> list[str]:
    """The result file: the command, how it was measured, the tables."""
    command = " ".join(["bench/day_of_service.py", *sys.argv[1:]])
    return [
        f"# A day of service: trialwatch run vs {version}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `.venv/bin/python {command}`. {_runs(len(runs))} Scale factor {scale:g}: "
        f"every poll interval and the per-host pacing divided by {scale:g}, one simulated day = "
        f"{DAY / scale:.0f} s of wall time per tool, after a {WARM_UP:.0f} s warm-up; "
        f"{args.topics} topics; the embedded defaults' sources on bench/day_web.py (50 ms per "
        f"request). Machine: {os.cpu_count()} cores; load averages below. The defaults are "
        "kept but for their URLs, intervals and pacing: the database is a temporary file, the "
        "HTTP server a free port, SLACK_*/SMTP_* are unset (alerts go to the console log).",
        "",
        *table(runs, scale),
        "",
        "CPU per day = idle CPU per real second x 86,400 + (window CPU - idle rate x window "
        "wall), scaled from the window to a day. The idle rate: after each window the service "
        "restarts on the same database at the real (unscaled) intervals, so every source was "
        f"just polled and none is due; once it answers and the web has been quiet {QUIET:.0f} s, "
        f"its CPU over {args.idle:.0f} s is idling (the scheduler, the minute's outbox flush, "
        f"the HTTP server's tick). {idle_note(runs)} urlwatch from cron has no process between "
        "runs: no idle cost. Not in either: housekeeping (every 30 real minutes) and the "
        "digest (off in the defaults).",
        "",
        f"urlwatch watches the {n_urls} GET URLs trialwatch fetched (CTIS's POST search has "
        "no urlwatch equivalent), one cron line per interval: "
        + ", ".join(f"{len(u)} every {i / 60:g} min" for i, u in lines.items())
        + ", a run skipped while the previous one of its line still runs. Peak RSS: the "
        "service's VmHWM in the window, summed with its live descendants' (its feed parse worker, "
        "the worker's forkserver and multiprocessing's resource tracker); for urlwatch the largest "
        "single run.",
        "",
        *load_table(runs),
    ]


def _runs(n: int) -> str:
    if n == 1:
        return "One run of each tool."
    return f"{n} alternating runs (trialwatch, urlwatch, ...), each cell the median [min-max]."


if __name__ == "__main__":
    main()
