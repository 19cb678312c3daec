"""A day of service: `trialwatch run` against urlwatch from cron, on one loopback web.

    .venv/bin/python bench/day_of_service.py [--scale 480] [--topics 20] [--quick]

The embedded defaults (bot/default_config.toml) with 20 topics, every source pointed at
bench/day_web.py (recorded payloads; one loopback address per real host) and every interval
divided by --scale, so 24 h / scale of wall time is one simulated day; per-host pacing is
scaled the same way (`[http] min_interval = 1 s / scale`). After a warm-up (the service's
first polls come within its first minute; urlwatch runs each job list once), each tool is
measured for that window: CPU (process and reaped children), peak RSS, database or cache growth
and the requests the web answered, multiplied back to a day. urlwatch 2.29 (bench/.venv-urlwatch,
installed by bench/vs_urlwatch.py on first use) watches the same GET URLs trialwatch fetched,
one cron line per interval, a run skipped while the previous one of its line still runs.
Writes bench/results/<date>-day-of-service.md. Loopback only; bounded; stops what it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

try:
    from bench.vs_urlwatch import (
        BENCH,
        CONTROL,
        ROOT,
        TRIALWATCH,
        compile_trialwatch,
        ensure_urlwatch,
        free_port,
        urlwatch_setup,
    )
except ModuleNotFoundError:  # run as `python bench/day_of_service.py`: bench/ is on sys.path
    from vs_urlwatch import (  # type: ignore[no-redef]
        BENCH,
        CONTROL,
        ROOT,
        TRIALWATCH,
        compile_trialwatch,
        ensure_urlwatch,
        free_port,
        urlwatch_setup,
    )

DAY = 86400.0
DEFAULTS = ROOT / "bot" / "default_config.toml"
WARM_UP = 60.0  # wall seconds: the service's first polls all start within its first 50
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def per_day(amount: float, wall: float, scale: float) -> float:
    """`amount` seen in `wall` seconds at `scale` times real speed, as per simulated day."""
    return amount * DAY / (wall * scale)


def seconds(text: str) -> float:
    """A configured interval ("15m", "1h", "90") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if match is None:
        raise ValueError(f"not an interval: {text!r}")
    return float(match[1]) * UNITS[match[2] or "s"]


def day_config(
    defaults: str, *, web_port: int, scale: float, topics: int, db: Path, server_port: int
) -> str:
    """The embedded defaults on loopback: each real host one 127.0.0.x address, plain HTTP,
    intervals and pacing divided by `scale`, `topics` topics (the default one first)."""
    hosts: dict[str, str] = {}

    def scaled(interval: str) -> str:
        # The service schedules in whole seconds of grace: it refuses a job under one second.
        if (wall := seconds(interval) / scale) < 1:
            raise ValueError(f"--scale {scale:g} makes {interval} {wall:.2f} s: under 1 s")
        return f"{wall:.3f}"

    def loopback(match: re.Match[str]) -> str:
        address = hosts.setdefault(match[1], f"127.0.0.{2 + len(hosts)}")
        return f"http://{address}:{web_port}"

    text = re.sub(r"https://([^/\"]+)", loopback, defaults)
    text = re.sub(
        r'^interval = "([^"]+)"', lambda m: f"interval = {scaled(m[1])}", text, flags=re.MULTILINE
    )
    text = text.replace('url = "sqlite:///trialwatch.db"', f'url = "sqlite:///{db}"')
    text = text.replace("port = 8080", f"port = {server_port}")
    more = "".join(f'[[topics]]\nname = "drug-{n:02d}"\n\n' for n in range(2, topics + 1))
    text = text.replace("[sources.clinicaltrials]", f"{more}[sources.clinicaltrials]", 1)
    return f"{text}\n[http]\nmin_interval = {1 / scale:.4f}\n"


def source_intervals(config: str, scale: float) -> dict[str, float]:
    """Each configured source URL and its simulated interval in seconds (a `day_config` text)."""
    sources = tomllib.loads(config)["sources"]
    out: dict[str, float] = {}
    for entry in [s for v in sources.values() for s in (v if isinstance(v, list) else [v])]:
        url = entry.get("base_url") or entry.get("url")
        if url and entry.get("enabled", True):
            out[str(url)] = round(float(entry["interval"]) * scale)
    return out


def cron_lines(urls: list[str], intervals: dict[str, float]) -> dict[float, list[str]]:
    """Fetched URLs grouped by the interval of the source whose URL is their longest prefix."""
    lines: dict[float, list[str]] = {}
    for url in sorted(urls):
        owners = [source for source in intervals if url.startswith(source)]
        if owners:
            lines.setdefault(intervals[max(owners, key=len)], []).append(url)
    return dict(sorted(lines.items()))


def table(windows: list[Window], scale: float) -> list[str]:
    """The per-day table: one row per tool, figures multiplied back to a simulated day."""
    rows = [
        "| tool | CPU-s per day | peak RSS | database growth per day | requests per day "
        "| 304s per day | bytes served per day | polls per day (due) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in windows:
        day = [per_day(x, w.wall, scale) for x in (w.cpu, w.db_growth, w.requests)]
        extra = [per_day(x, w.wall, scale) for x in (w.not_modified, w.bytes_out, w.polls)]
        rows.append(
            f"| {w.tool} | {day[0]:.0f} s | {w.peak_rss_mb:.0f} MB | {day[1] / 1e6:.2f} MB "
            f"| {day[2]:,.0f} | {extra[0]:,.0f} | {extra[1] / 1e6:.1f} MB "
            f"| {extra[2]:,.0f} ({w.polls_due:,.0f}) |"
        )
    return rows


class DayWebProcess:
    """bench/day_web.py in its own process (its CPU is nobody's)."""

    def __init__(self, hosts: int, scale: float) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "day_web.py"), "--port", str(self.port),
             "--hosts", str(hosts), "--scale", str(scale)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("day web did not start")

    def call(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://{CONTROL}:{self.port}{path}", timeout=10) as answer:
            result: dict[str, object] = json.loads(answer.read())
            return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _cpu(pid: int) -> float:
    """utime + stime + reaped children's, of a live process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _poll_runs(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        return int(connection.execute("SELECT count(*) FROM poll_run").fetchone()[0])


def _size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def _wait_alive(child: subprocess.Popen[bytes], until: float, log: Path) -> None:
    while time.monotonic() < until:
        if child.poll() is not None:
            raise RuntimeError(f"trialwatch run exited: {log.read_text()[-2000:]}")
        time.sleep(0.5)


def measure_trialwatch(web: DayWebProcess, work: Path, scale: float, topics: int) -> Window:
    """`trialwatch run` with the defaults on loopback: warm-up, then one measured window."""
    db = work / "tw.db"
    config = work / "trialwatch.toml"
    config.write_text(
        day_config(DEFAULTS.read_text(encoding="utf-8"), web_port=web.port, scale=scale,
                   topics=topics, db=db, server_port=free_port()),
        encoding="utf-8",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMTP_"))}
    log = work / "run.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [str(TRIALWATCH), "run", "--config", str(config)], cwd=work, env=env,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_alive(child, time.monotonic() + WARM_UP, log)
            web.call("/_reset")
            cpu0, size0, started = _cpu(child.pid), _size(db, work / "tw.db-wal"), time.monotonic()
            polls0 = _poll_runs(db)
            _wait_alive(child, started + DAY / scale, log)
            wall = time.monotonic() - started
            cpu, rss = _cpu(child.pid) - cpu0, _peak_rss_mb(child.pid)
            growth = _size(db, work / "tw.db-wal") - size0
            polls = _poll_runs(db) - polls0
            stats = web.call("/_stats")
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)
    (work / "urls.json").write_text(json.dumps(stats["urls"]), encoding="utf-8")
    intervals = source_intervals(config.read_text(encoding="utf-8"), scale).values()
    due = topics * sum(DAY / interval for interval in intervals)
    return _window("trialwatch run", (wall, cpu, rss, growth), stats, (polls, due))


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
    commands = {}
    for interval, urls in lines.items():
        (work / f"{interval:.0f}").mkdir()
        commands[interval] = urlwatch_setup(work / f"{interval:.0f}", urls)
    caches = [work / f"{interval:.0f}" / "cache.db" for interval in lines]
    for command in commands.values():  # warm-up: the first run fills each cache
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    web.call("/_reset")
    size0, started = _size(*caches), time.monotonic()
    due = dict.fromkeys(lines, started)
    running: dict[float, subprocess.Popen[bytes]] = {}  # held: else subprocess reaps them
    cpu = rss = 0.0
    polls = 0
    while running or time.monotonic() < started + DAY / scale:
        now = time.monotonic()
        for interval, command in commands.items():
            if now < started + DAY / scale and interval not in running and now >= due[interval]:
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
    wall = time.monotonic() - started
    due = sum(len(urls) * DAY / interval for interval, urls in lines.items())
    figures = (wall, cpu, rss, _size(*caches) - size0)
    return _window(version, figures, web.call("/_stats"), (polls, due))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=480.0, help="simulated / real time")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="--scale 900: 96 s per tool")
    args = parser.parse_args()
    scale = 900.0 if args.quick else args.scale
    compile_trialwatch()
    version = ensure_urlwatch()
    load_start = os.getloadavg()
    web = DayWebProcess(hosts=12, scale=scale)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
            work = Path(tmp)
            (work / "tw").mkdir()
            tw = measure_trialwatch(web, work / "tw", scale, args.topics)
            config = (work / "tw" / "trialwatch.toml").read_text(encoding="utf-8")
            urls = json.loads((work / "tw" / "urls.json").read_text(encoding="utf-8"))
            lines = cron_lines(urls, source_intervals(config, scale))
            (work / "uw").mkdir()
            uw = measure_urlwatch(web, work / "uw", scale, lines, version)
    finally:
        web.stop()
    load_end = os.getloadavg()
    command = " ".join(["bench/day_of_service.py", *sys.argv[1:]])
    out = [
        f"# A day of service: trialwatch run vs {version}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `.venv/bin/python {command}`. Scale factor {scale:g}: every interval and the "
        f"per-host pacing divided by {scale:g}, one simulated day = {DAY / scale:.0f} s of wall "
        f"time per tool, after a {WARM_UP:.0f} s warm-up; {args.topics} topics; the embedded "
        "defaults' sources on bench/day_web.py (50 ms per request). Figures are the measured "
        f"window multiplied back to 24 h. Machine: {os.cpu_count()} cores, shared; load "
        f"average (1, 5, 15 min) {_load(load_start)} at the start, {_load(load_end)} at the end.",
        "",
        *table([tw, uw], scale),
        "",
        f"urlwatch watches the {len(urls)} GET URLs trialwatch fetched (CTIS's POST search has "
        "no urlwatch equivalent), one cron line per interval: "
        + ", ".join(f"{len(u)} every {i / 60:g} min" for i, u in lines.items())
        + ". Peak RSS: the service's VmHWM; for urlwatch the largest single run.",
    ]
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now(UTC):%Y-%m-%d}-day-of-service.md"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))
    print(f"wrote {path.relative_to(ROOT)}")


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{n:.1f}" for n in load)


if __name__ == "__main__":
    main()
