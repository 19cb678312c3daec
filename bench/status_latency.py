"""How fast `/status` answers from stored state, over real HTTP with signed Slack requests.

    python bench/status_latency.py [--db URL] [--requests 200] [--alerts 400] [--concurrency 1]

Seeds a database (a temporary SQLite file unless --db is given; a PostgreSQL URL works, and
its trialwatch tables are dropped and recreated) with three topics, a few trials each, hundreds
of alerts and source-health rows; serves the real Starlette app under uvicorn on 127.0.0.1;
sends signed `/status` requests one after another with a keep-alive client, and prints the
median, p95, p99 and max round trip. `--concurrency 20` sends them from 20 clients at once
(the issue's case: `--alerts 10000 --concurrency 20`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import open_app
from bot.config import LoadedConfig, Secrets, Settings
from bot.service.server import HttpServer, create_asgi_app, health_report
from bot.slack.commands import StatusCommand
from state.store import Store, create_store_engine
from watchers.model import Observation, SourceResult, freeze_fields

SECRET = "bench-signing-secret"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TOPICS: list[dict[str, Any]] = [
    {"name": "ulefnersen", "aliases": ["jacifusen", "ION363"], "trials": ["NCT04768972"]},
    {"name": "tofersen", "aliases": ["Qalsody", "BIIB067"], "trials": ["NCT02623699"]},
    {"name": "zilganersen", "aliases": ["ION373"], "trials": ["NCT04849741"]},
]
STATUSES = ["RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED", "SUSPENDED"]
NAMES = ["ulefnersen", "ION363", "NCT04768972 public", "tofersen", "zilganersen"]


def trial(topic: str, key: str, status: str, enrollment: int) -> Observation:
    fields = {
        "brief_title": f"A Phase 3 study of {topic} ({key}) in an ALS population",
        "overall_status": status,
        "why_stopped": None,
        "phases": ("PHASE3",),
        "enrollment": f"{enrollment} (estimated)",
        "start_date": "2021-06-14 (actual)",
        "primary_completion_date": "2026-09 (estimated)",
        "completion_date": "2028-12 (estimated)",
        "has_results": False,
        "results_first_posted": None,
        "lead_sponsor": "Ionis Pharmaceuticals, Inc.",
        "locations": tuple(f"Site {n}, City {n}" for n in range(40)),
        "last_update_posted": "2025-08-22",
    }
    return Observation(
        source="clinicaltrials",
        key=key,
        topic=topic,
        title=str(fields["brief_title"]),
        url=f"https://clinicaltrials.gov/study/{key}",
        fields=freeze_fields(fields),
        matched_alias=topic,
    )


def seed(store: Store, alerts: int, trials_per_topic: int) -> int:
    """Polls that each change one trial: one alert per poll after the baseline (to the console)."""
    made = 0
    for index, topic in enumerate(TOPICS):
        name = topic["name"]
        keys = [topic["trials"][0], *(f"NCT0{index}{n:06d}" for n in range(trials_per_topic - 1))]
        changes = dict.fromkeys(keys, 0)
        for step in range(alerts // len(TOPICS) + 1):
            at = T0 + timedelta(hours=step)
            if step:  # after the baseline, one trial changes per poll: one alert
                changes[keys[step % len(keys)]] += 1
            observations = tuple(
                trial(name, key, STATUSES[n % len(STATUSES)], 90 + n) for key, n in changes.items()
            )
            result = SourceResult(source="clinicaltrials", topic=name, observations=observations)
            report = store.apply_poll(result, started=at, at=at)
            made += len(report.changes)
        store.record_failure(name, "openfda", "api.fda.gov answered HTTP 503", started=at, at=at)
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=400)
    parser.add_argument("--trials", type=int, default=4, help="trials per topic")
    parser.add_argument("--concurrency", type=int, default=1, help="clients sending at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if args.db and url.startswith("postgresql"):
            engine = create_store_engine(url)
            with engine.begin() as connection:  # start empty, the migration history included
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        config = LoadedConfig(
            settings=Settings.model_validate({"storage": {"url": url}, "topics": TOPICS}),
            secrets=Secrets(),
            source="bench",
        )
        with open_app(config, write=lambda _: None) as app:
            started = time.perf_counter()
            made = seed(app.store, args.alerts, args.trials)
            print(f"database: {url.split('://')[0]}; seeded {len(TOPICS)} topics x {args.trials} "
                  f"trials, {made} alerts in {time.perf_counter() - started:.1f}s")  # fmt: skip
            command = StatusCommand.for_app(app)
            server = HttpServer(
                create_asgi_app(
                    answer=command.answer,
                    health=lambda: health_report(app.store, ["clinicaltrials", "openfda"]),
                    signing_secret=SECRET,
                ),
                "127.0.0.1",
                0,
            )
            server.start()
            try:
                run(server.url, args.requests, command, args.concurrency)
            finally:
                server.stop()


def run(url: str, requests: int, command: StatusCommand, concurrency: int = 1) -> None:
    # The clients run in a process of their own, as Slack's do: threads in the server's process
    # would share its interpreter lock, and their own CPU would count as the server's latency.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as clients:
        times, sizes = clients.submit(load, url, requests, concurrency).result()
    gave_up = sizes.count(0)
    print(f"/status over HTTP, {len(times)} signed requests from {concurrency} client(s) "
          f"({max(sizes)} blocks; {gave_up} gave up on a slow read):")  # fmt: skip
    print(f"  median {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
          f"p99 {percentile(times, 0.99):.1f} ms, max {max(times):.1f} ms, "
          f"min {min(times):.1f} ms")  # fmt: skip
    in_process = []
    for n in range(requests):
        tick = time.perf_counter()
        command.answer(NAMES[n % len(NAMES)])
        in_process.append((time.perf_counter() - tick) * 1000)
    print(f"answer() alone (stored-state read + card), median {statistics.median(in_process):.1f}"
          f" ms, p95 {percentile(in_process, 0.95):.1f} ms")  # fmt: skip


def load(url: str, requests: int, concurrency: int) -> tuple[list[float], list[int]]:
    """`requests` round trips (ms) and block counts, shared by `concurrency` clients at once."""
    times: list[float] = []
    sizes: list[int] = []
    share = -(-requests // concurrency)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for client_times, client_sizes in pool.map(
            lambda _n: one_client(url, share), range(concurrency)
        ):
            times += client_times
            sizes += client_sizes
    return times, sizes


def one_client(url: str, requests: int) -> tuple[list[float], list[int]]:
    """One keep-alive client's round trips (ms) and block counts, after 20 warm-up requests."""
    signer = SignatureVerifier(SECRET)
    times: list[float] = []
    sizes: list[int] = []
    with httpx.Client(base_url=url) as client:
        for n in range(requests + 20):
            text = NAMES[n % len(NAMES)]
            body = f"command=%2Fstatus&text={text.replace(' ', '+')}&user_id=U1&channel_id=C1"
            stamp = str(int(time.time()))
            headers = {
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": str(signer.generate_signature(timestamp=stamp, body=body)),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            tick = time.perf_counter()
            response = client.post("/slack/commands", content=body, headers=headers)
            elapsed = time.perf_counter() - tick
            response.raise_for_status()
            # No card: the answer gave up on a slow database read ("try again"); counted as 0.
            blocks = response.json().get("blocks", [])
            if n >= 20:  # the first requests warm up connections and caches
                times.append(elapsed * 1000)
                sizes.append(len(blocks))
    return times, sizes


if __name__ == "__main__":
    main()
