"""Latency of the read outputs at 10,000 stored alerts, 20 concurrent clients over HTTP.

    python bench/read_latency.py [--alerts 10000] [--clients 20] [--requests 400] [--fixed-clock]

Seeds a temporary SQLite database (bench/dashboard_render.py's seed: FUSION, its registry
history and `--alerts` alerts), serves the dashboard, the JSON API and the Atom feed on
127.0.0.1 as `trialwatch run` does, and sends `--requests` GETs per path from `--clients`
keep-alive clients at once (in a process of their own, so their CPU is not the server's).
Prints median and p95 per path; targets: dashboard page < 100 ms, API < 50 ms (p95).
The service's clock moves with real time, as in `trialwatch run`, so a kept answer
(bot/read/answer_cache.py) is rebuilt every second; --fixed-clock measures kept answers only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.dashboard_render import T0, TOPIC, seed
from bot.dashboard.serve import Dashboard
from bot.read.api import ReadApi
from bot.read.atom import AtomFeeds
from bot.service.server import HttpServer, create_asgi_app
from bot.service.url_token import UrlTokenGate
from state.store import Store

PATHS = (
    "/topics/ulefnersen",
    "/topics/ulefnersen?severity=high&since=30d",
    "/api/v1/topics/ulefnersen",
    "/api/v1/topics/ulefnersen/alerts?limit=50",
    "/api/v1/topics/ulefnersen/alerts?severity=normal&trial=NCT04768972&cursor=5000",
    "/api/v1/trials/NCT04768972",
    "/feeds/ulefnersen.atom",
)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def one_client(url: str, path: str, requests: int) -> list[float]:
    """One keep-alive client's round trips (ms), after 5 warm-up requests."""
    times = []
    with httpx.Client(base_url=url) as client:
        for n in range(requests + 5):
            tick = time.perf_counter()
            client.get(path).raise_for_status()
            if n >= 5:
                times.append((time.perf_counter() - tick) * 1000)
    return times


def load(url: str, path: str, clients: int, requests: int) -> list[float]:
    share = -(-requests // clients)
    with ThreadPoolExecutor(clients) as pool:
        return [
            t for ts in pool.map(lambda _: one_client(url, path, share), range(clients)) for t in ts
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per path")
    parser.add_argument("--fixed-clock", action="store_true", help="the clock never moves")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}", connections=args.clients + 5)
        seed(store, args.alerts)
        start = time.monotonic()
        moves = 0.0 if args.fixed_clock else 1.0
        clock = lambda: T0 + timedelta(days=8, seconds=moves * (time.monotonic() - start))  # noqa: E731
        dashboard = Dashboard(store, [TOPIC], clock, host="127.0.0.1", token=None)
        pages = [
            *dashboard.routes(),
            *ReadApi(store, [TOPIC], clock, dashboard.gate).routes(),
            *AtomFeeds(store, [TOPIC], clock, UrlTokenGate(host="127.0.0.1", token=None)).routes(),
        ]
        asgi = create_asgi_app(answer=lambda _: {}, health=dict, signing_secret=None, pages=pages)
        server = HttpServer(asgi, "127.0.0.1", 0)
        server.start()
        print(f"{args.alerts:,} alerts stored, SQLite; {args.clients} concurrent clients, "
              f"{args.requests} requests per path, clock "
              f"{'fixed' if args.fixed_clock else 'moving'}")  # fmt: skip
        try:
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(1, mp_context=spawn) as clients:
                for path in PATHS:
                    times = clients.submit(load, server.url, path, args.clients, args.requests)
                    got = times.result()
                    print(f"  {path}: median {statistics.median(got):.1f} ms, "
                          f"p95 {p95(got):.1f} ms")  # fmt: skip
        finally:
            server.stop()
            store.close()


if __name__ == "__main__":
    main()
