"""What the design card's libraries cost on their own, for the goals trialwatch misses.

    .venv/bin/python bench/floors.py [--runs 3]

On the benchmark's loopback web (bench/feed_server.py, 50 ms per request), in fresh processes:
- httpx alone: 500 conditional GETs answered 304, 32 at a time over one shared client (what an
  unchanged N = 500 cycle must do at the default `max_parallel`), with nothing stored;
- feedparser alone: parsing the 500 feeds a cold cycle fetches, nothing stored;
- the import of what every `check` needs (httpx, SQLAlchemy, pydantic, feedparser): the
  whole process's CPU.
The first two count only the measured work (not the imports, nor fetching the validators or
the bodies first).
Medians of `--runs` with [min-max]. Printed, not written: bench/results/<date>.md quotes it.
Loopback only; never part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.vs_urlwatch import FeedServer

FEEDS = 500
PARALLEL = 32

HTTPX_304S = """
import resource, sys, time
from concurrent.futures import ThreadPoolExecutor
started = time.perf_counter()
import httpx
urls = sys.argv[1:]
limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
with httpx.Client(limits=limits) as client:
    etags = {url: client.get(url).headers["etag"] for url in urls}  # the stored validators
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    def conditional(url):
        assert client.get(url, headers={"If-None-Match": etags[url]}).status_code == 304
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(conditional, urls))
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
print(wall, cpu)
"""

FEEDPARSER = """
import resource, sys, urllib.request
import feedparser
bodies = [urllib.request.urlopen(url, timeout=10).read() for url in sys.argv[1:]]
before = resource.getrusage(resource.RUSAGE_SELF)
for body in bodies:
    feedparser.parse(body, sanitize_html=False)
after = resource.getrusage(resource.RUSAGE_SELF)
print(0.0, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
"""

IMPORTS = "import httpx, sqlalchemy, sqlalchemy.orm, pydantic, feedparser\nprint(0.0, -1.0)"


def child_cpu(code: str, args: list[str]) -> tuple[float, float]:
    """(wall, CPU) of the measured work in one fresh process; a run that measures nothing
    inside (-1) is the whole process's CPU (the imports)."""
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE)
    assert child.stdout is not None
    out = child.stdout.read().decode()
    _pid, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("a floor measurement failed")
    wall, cpu = (float(word) for word in out.split())
    return wall, cpu if cpu >= 0 else usage.ru_utime + usage.ru_stime


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = FeedServer(FEEDS, 1)
    try:
        urls = [server.feed_url(i, 1) for i in range(FEEDS)]
        rows = [
            ("httpx alone: 500 conditional GETs (304), 32 at a time", HTTPX_304S),
            ("feedparser alone: parse the 500 feeds", FEEDPARSER),
            ("imports alone: httpx, SQLAlchemy (+ORM), pydantic, feedparser", IMPORTS),
        ]
        print("| floor | wall | CPU |")
        print("|---|---|---|")
        for label, code in rows:
            walls, cpus = zip(*(child_cpu(code, urls) for _ in range(args.runs)), strict=True)
            wall = spread(list(walls)) if any(walls) else "-"
            print(f"| {label} | {wall} | {spread(list(cpus))} |")
    finally:
        server.stop()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"\nLoad average after these runs (1, 5, 15 min): {load}.")


if __name__ == "__main__":
    main()
