"""trialwatch against urlwatch on one loopback web; writes bench/results/<date>.md.

    .venv/bin/python bench/vs_urlwatch.py [--sizes 10 100 500] [--runs 3]
        [--only cycles|politeness|ids|start-up|big-search|floors]   (one section, printed)

urlwatch is installed from the package index into bench/.venv-urlwatch (git-ignored) on first
use; trialwatch into bench/.venv-trialwatch as the README's first command does (editable, no
test extras), so both run as their users install them. bench/feed_server.py serves N RSS
feeds with 50 ms latency, ETag/Last-Modified and 304s.
For each N: cold (empty state), unchanged and one-changed cycles, each run as its own process;
wall, CPU and peak RSS from wait4(), requests, 304s, connections and peak parallel requests
from the server. Medians of `--runs` with [min-max]; ratios to urlwatch from the same run.
Also: default politeness over 250 loopback hosts, listed trial ids (1, 100, 1,000), start-up,
a 10,000-study ClinicalTrials.gov search (bench/big_search.py), and what httpx, feedparser and
the imports cost on their own (bench/floors.py). The load average at the
start of the cycles is written with them: the machine may be shared.
Loopback only; every loop is bounded; never part of the test suite.
"""

from __future__ import annotations

import argparse
import compileall
import ctypes
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
URLWATCH_VENV = BENCH / ".venv-urlwatch"
_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
# trialwatch as a user installs it (the README's first command: no test extras). The suite's
# .venv also holds selenium's trio, which httpcore imports whenever it is present: 0.05-0.07 s
# of CPU per start that no user pays.
TRIALWATCH_VENV = BENCH / ".venv-trialwatch"
TRIALWATCH = TRIALWATCH_VENV / "bin" / "trialwatch"
CONTROL = "127.0.0.1"


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    server: dict[str, int]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((CONTROL, 0))
        return int(probe.getsockname()[1])


class FeedServer:
    """bench/feed_server.py in its own process (its CPU is not the clients')."""

    def __init__(self, feeds: int, hosts: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "feed_server.py"), "--port", str(self.port),
             "--feeds", str(feeds), "--hosts", str(hosts)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("feed server did not start")

    def call(self, path: str) -> dict[str, int]:
        with urllib.request.urlopen(f"http://{CONTROL}:{self.port}{path}", timeout=10) as answer:
            result: dict[str, int] = json.loads(answer.read())
            return result

    def feed_url(self, index: int, hosts: int) -> str:
        return f"http://127.0.0.{1 + index % hosts}:{self.port}/feed/{index}.xml"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measured(command: Sequence[str], server: FeedServer, cwd: Path) -> Sample:
    """Run one client process; its wall, CPU and peak RSS, and what the server saw."""
    server.call("/_reset")
    started = time.perf_counter()
    # stderr goes to a file, not a pipe: nobody reads a pipe during wait4, and a run that logs
    # more than the pipe holds (64 KB) would block on its next write for ever.
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        helpers_cpu, helpers_rss = reap_orphans()
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    # `trialwatch check` exits 1 when a poll failed; a crash (a traceback) is never a sample.
    if child.returncode not in (0, 1) or "Traceback" in errors:
        raise RuntimeError(f"{command[0]} failed ({child.returncode}): {errors[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime + helpers_cpu
    return Sample(wall, cpu, (usage.ru_maxrss + helpers_rss) / 1024, server.call("/_stats"))


def become_subreaper() -> None:
    """Orphaned descendants (trialwatch's parse workers' forkserver outlives its parent by a
    moment) are handed to this process, so `reap_orphans` can count their CPU."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(settle: float = 0.5) -> tuple[float, int]:
    """CPU seconds and summed peak RSS (KB) of the measured run's orphans (its parse workers,
    reaped by their forkserver, and the forkserver): they worked for that run."""
    cpu, rss = 0.0, 0
    until = time.monotonic() + settle
    while time.monotonic() < until:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
            continue
        cpu += usage.ru_utime + usage.ru_stime
        rss += usage.ru_maxrss
    return cpu, rss


def trialwatch_setup(work: Path, urls: list[str], *, paced: bool) -> list[str]:
    config = work / "trialwatch.toml"
    feeds = "".join(
        f'[[sources.feeds]]\nname = "feed {n}"\nurl = "{url}"\nauthority = "news"\n\n'
        for n, url in enumerate(urls)
    )
    http = "" if paced else "[http]\nmin_interval = 0\n"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{work / "tw.db"}"\n\n[[topics]]\nname = "ulefnersen"\n\n'
        f"{http}{feeds}",
        encoding="utf-8",
    )
    return [str(TRIALWATCH), "check", "--config", str(config)]


def urlwatch_setup(work: Path, urls: list[str]) -> list[str]:
    (work / "urls.yaml").write_text(
        "\n---\n".join(f"name: feed {n}\nurl: {url}" for n, url in enumerate(urls)) + "\n",
        encoding="utf-8",
    )
    binary = URLWATCH_VENV / "bin" / "urlwatch"
    return [
        str(binary), "--urls", str(work / "urls.yaml"), "--config", str(work / "urlwatch.yaml"),
        "--hooks", str(work / "hooks.py"), "--cache", str(work / "cache.db"),
    ]  # fmt: skip


def ensure_urlwatch() -> str:
    binary = URLWATCH_VENV / "bin" / "urlwatch"
    if not binary.exists():
        install_into(URLWATCH_VENV, "urlwatch==2.29")
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def cycles(
    setup: Callable[[Path], list[str]], server: FeedServer, runs: int
) -> dict[str, list[Sample]]:
    """`runs` times: fresh state, then cold, unchanged, one-changed."""
    out: dict[str, list[Sample]] = {"cold": [], "unchanged": [], "one changed": []}
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            work = Path(tmp)
            command = setup(work)
            out["cold"].append(measured(command, server, work))
            out["unchanged"].append(measured(command, server, work))
            server.call(f"/_bump/{run}")
            out["one changed"].append(measured(command, server, work))
    return out


def spread(values: Sequence[float], unit: str = "", digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f}{unit} "
        f"[{min(values):.{digits}f}-{max(values):.{digits}f}]"
    )


def ratio(ours: Sequence[float], theirs: Sequence[float]) -> str:
    pairs = [a / b for a, b in zip(ours, theirs, strict=True) if b]
    return spread(pairs, "x") if pairs else "n/a"


def side_by_side(n: int, tw: dict[str, list[Sample]], uw: dict[str, list[Sample]]) -> list[str]:
    rows = []
    for cycle in ("cold", "unchanged", "one changed"):
        a, b = tw[cycle], uw[cycle]
        mid_a, mid_b = a[len(a) // 2].server, b[len(b) // 2].server
        walls_a, walls_b = [s.wall for s in a], [s.wall for s in b]
        cpu_a, cpu_b = [s.cpu for s in a], [s.cpu for s in b]
        rss_a = statistics.median(s.rss_mb for s in a)
        rss_b = statistics.median(s.rss_mb for s in b)
        cells = [
            str(n),
            cycle,
            spread(walls_a, " s"),
            spread(walls_b, " s"),
            ratio(walls_a, walls_b),
            f"{spread(cpu_a, ' s')} / {spread(cpu_b, ' s')}",
            ratio(cpu_a, cpu_b),
            f"{rss_a:.0f} / {rss_b:.0f} MB",
            f"{mid_a['requests']} / {mid_b['requests']}",
            f"{mid_a['not_modified']} / {mid_b['not_modified']} ({mid_a['body_bytes_304']} B)",
            f"{mid_a['connections']} / {mid_b['connections']}",
            f"{mid_a['peak_in_flight']} / {mid_b['peak_in_flight']}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def politeness(runs: int) -> list[str]:
    """500 feeds over 250 hosts: default pacing against pacing off (unchanged cycles)."""
    hosts, n = 250, 500
    server = FeedServer(n, hosts)
    try:
        urls = [server.feed_url(i, hosts) for i in range(n)]
        lines = []
        for paced in (False, True):
            walls = []
            for _ in range(runs):
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    work = Path(tmp)
                    command = trialwatch_setup(work, urls, paced=paced)
                    measured(command, server, work)
                    walls.append(measured(command, server, work).wall)
            label = "default pacing (1 s per host)" if paced else "pacing off (min_interval = 0)"
            lines.append(f"| {label} | {spread(walls, ' s')} |")
        return lines
    finally:
        server.stop()


def trial_ids(runs: int) -> list[str]:
    """Listed trial ids: requests and wall of a refreshed cycle (the registry's stamp moved)."""
    server = FeedServer(1, 1)
    lines = []
    try:
        for count in (1, 100, 1000):
            ids = ", ".join(f'"NCT{n:08d}"' for n in range(1, count + 1))
            walls, requests = [], []
            for _ in range(runs):
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    work = Path(tmp)
                    config = work / "trialwatch.toml"
                    config.write_text(
                        f'[storage]\nurl = "sqlite:///{work / "tw.db"}"\n\n'
                        f'[[topics]]\nname = "ulefnersen"\ntrials = [{ids}]\n\n'
                        f"[http]\nmin_interval = 0\n\n[sources.clinicaltrials]\n"
                        f'base_url = "http://{CONTROL}:{server.port}/api/v2"\n'
                        # The poll's requests only: the history import is a job of its own
                        # after the poll (once per trial, then only when a record changed).
                        "history = false\n",
                        encoding="utf-8",
                    )
                    command = [str(TRIALWATCH), "check", "--config", str(config)]
                    measured(command, server, work)
                    server.call("/_bump_ctgov")
                    sample = measured(command, server, work)
                    walls.append(sample.wall)
                    requests.append(sample.server["requests"])
            lines.append(
                f"| {count} | {statistics.median(requests):.0f} [{min(requests)}-{max(requests)}] "
                f"| {spread(walls, ' s')} |"
            )
    finally:
        server.stop()
    return lines


def start_up(runs: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        config = work / "trialwatch.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{work / "tw.db"}"\n\n[[topics]]\nname = "ulefnersen"\n',
            encoding="utf-8",
        )
        commands = {
            "trialwatch --help": [str(TRIALWATCH), "--help"],
            "trialwatch status ulefnersen": [
                str(TRIALWATCH), "status", "ulefnersen", "-c", str(config)
            ],
            "urlwatch --version": [str(URLWATCH_VENV / "bin" / "urlwatch"), "--version"],
        }  # fmt: skip
        # The first `status` creates the database; the measured ones find it at the newest schema.
        subprocess.run(commands["trialwatch status ulefnersen"], capture_output=True, check=True)
        for label, command in commands.items():
            walls, cpus, rss = [], [], []
            for _ in range(max(runs, 5)):
                started = time.perf_counter()
                child = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                _pid, status, usage = os.wait4(child.pid, 0)
                walls.append(time.perf_counter() - started)
                if os.waitstatus_to_exitcode(status) != 0:  # a failed start is no sample
                    raise RuntimeError(f"{label} failed ({os.waitstatus_to_exitcode(status)})")
                cpus.append(usage.ru_utime + usage.ru_stime)
                rss.append(usage.ru_maxrss / 1024)
            lines.append(
                f"| `{label}` | {spread(walls, ' s')} | {spread(cpus, ' s')} "
                f"| {statistics.median(rss):.0f} MB |"
            )
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return [*lines, "", f"Load average after these runs (1, 5, 15 min): {load}."]


def floors(runs: int) -> list[str]:
    """bench/floors.py: what httpx, feedparser and the imports cost on their own."""
    command = [sys.executable, str(BENCH / "floors.py"), "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def big_search(runs: int) -> list[str]:
    """bench/big_search.py: peak RSS and time of one poll whose search answers 10,000 studies."""
    command = [sys.executable, str(BENCH / "big_search.py"), "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)
    return done.stdout.strip().splitlines()


def side_by_side_cycles(sizes: Sequence[int], runs: int, version: str) -> list[str]:
    """The cycles table (after a header line naming the load average): every size, both tools."""
    out = [f"load average at the start: {os.getloadavg()[0]:.1f} (urlwatch: {version})"]
    for n in sizes:
        server = FeedServer(n, 1)
        try:
            urls = [server.feed_url(i, 1) for i in range(n)]
            tw = cycles(partial(trialwatch_setup, urls=urls, paced=False), server, runs)
            uw = cycles(partial(urlwatch_setup, urls=urls), server, runs)
        finally:
            server.stop()
        out.extend(side_by_side(n, tw, uw))
        print("\n".join(out[-3:]), flush=True)
    return out


def ensure_trialwatch() -> None:
    """Install trialwatch into TRIALWATCH_VENV as the README does, again when pyproject changes."""
    stamp = TRIALWATCH_VENV / "pyproject.installed"
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if TRIALWATCH.exists() and stamp.exists() and stamp.read_bytes() == pyproject:
        return
    install_into(TRIALWATCH_VENV, "-e", str(ROOT))
    stamp.write_bytes(pyproject)


def install_into(venv: Path, *requirements: str) -> None:
    """A virtualenv at `venv` (made if missing) with `pip install requirements` run in it."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *requirements], check=True)


def compile_trialwatch() -> None:
    """Install trialwatch as a user does, then write its bytecode first, as installing a
    package does (urlwatch's was written when pip installed it): with PYTHONDONTWRITEBYTECODE
    set, a checkout would otherwise recompile every module at each measured start."""
    ensure_trialwatch()
    for package in ("bot", "state", "watchers"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main() -> None:
    become_subreaper()
    compile_trialwatch()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=["cycles", "politeness", "ids", "start-up", "big-search", "floors"],
        help="just this section (printed, not written)",
    )
    args = parser.parse_args()
    if args.only == "cycles":
        print(side_by_side_cycles(args.sizes, args.runs, ensure_urlwatch())[0])
        return
    if args.only:
        sections = {
            "politeness": politeness,
            "ids": trial_ids,
            "start-up": start_up,
            "big-search": big_search,
            "floors": floors,
        }
        print("\n".join(sections[args.only](args.runs)))
        return
    version = ensure_urlwatch()
    out = [
        f"# trialwatch vs {version}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `.venv/bin/python bench/vs_urlwatch.py --sizes {' '.join(map(str, args.sizes))} "
        f"--runs {args.runs}`; machine: {os.cpu_count()} cores; loopback server with 50 ms per "
        "request (bench/feed_server.py). trialwatch: `check`, `[http] min_interval = 0`, "
        "default `max_parallel` (32), SQLite. Cells: median [min-max] of the runs; "
        "`a / b` = trialwatch / urlwatch; server counts are from the median run.",
        "",
        "| N | cycle | trialwatch wall | urlwatch wall | wall ratio | CPU tw / uw | CPU ratio "
        "| peak RSS | requests | 304s (body bytes) | connections | peak parallel |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    load, *rows = side_by_side_cycles(args.sizes, args.runs, version)
    out += [*rows, "", f"{load[0].upper()}{load[1:]}."]
    out += ["", "## Politeness: 500 feeds on 250 hosts (127.0.0.1-250), unchanged cycle", "",
            "| trialwatch | wall |", "|---|---|", *politeness(args.runs)]  # fmt: skip
    out += ["", "## Listed trial ids, refreshed cycle (new dataTimestamp)", "",
            "| ids | requests | wall |", "|---|---|---|", *trial_ids(args.runs)]  # fmt: skip
    out += ["", "## Start-up (small database)", "", "| command | wall | CPU | peak RSS |",
            "|---|---|---|---|", *start_up(args.runs)]  # fmt: skip
    out += ["", "## A 10,000-study ClinicalTrials.gov search (bench/big_search.py)", "",
            *big_search(args.runs)]  # fmt: skip
    out += ["", "## Floors: the design card's libraries alone (bench/floors.py)", "",
            *floors(args.runs)]  # fmt: skip
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
