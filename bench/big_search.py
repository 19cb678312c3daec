"""Peak memory and time of one ClinicalTrials.gov poll whose search answers 10,000 studies.

    .venv/bin/python bench/big_search.py [--studies 10000] [--page-size 1000] [--runs 3]

A loopback server (this file, `--serve`, its own process) answers `/api/v2/version` and a paged
`/api/v2/studies` search like the v2 API: `pageSize` up to 1,000, `nextPageToken`, `totalCount`
on the first page. Every study is the REAL recorded record
tests/fixtures/ctgov/ctgov_full_study_aact_NCT06171568.json cut to the modules the watcher
asks for (`fields=`), under its own NCT id and brief title. Each poll runs in a fresh process
(`--poll`: SQLite store, `Http`, the ClinicalTrials.gov watcher, `poll_once`), so its peak RSS
(getrusage) is its own. Polls in order on one database: cold (the silent baseline of 10,000),
refreshed (a new dataTimestamp, every study fetched again, none changed), stamp unchanged
(`/version` only), refreshed with one study changed, and stamp unchanged a day later (the
first unchanged poll of a day reads the snapshot: a results clock may move). Loopback only;
never part of the suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEMPLATE = ROOT / "tests/fixtures/ctgov/ctgov_full_study_aact_NCT06171568.json"
TOPIC_NAME = "bench-drug"

MAX_PAGE = 1000  # the v2 API's largest pageSize (docs/sources.md#clinicaltrialsgov)


# --- the server --------------------------------------------------------------------------


class Registry:
    """What the loopback registry serves: N copies of one real study, a stamp, one changed."""

    def __init__(self, studies: int) -> None:
        record = json.loads(TEMPLATE.read_text(encoding="utf-8"))
        self.protocol: dict[str, Any] = record["protocolSection"]
        self.has_results = record.get("hasResults", False)
        self.studies = studies
        self.stamp = 1
        self.changed: set[int] = set()
        self.rendered: dict[tuple[Any, ...], bytes] = {}

    def study(self, index: int, modules: list[str]) -> dict[str, Any]:
        protocol = {name: self.protocol[name] for name in modules if name in self.protocol}
        ident = dict(self.protocol["identificationModule"])
        ident["nctId"] = f"NCT9{index:07d}"
        ident["briefTitle"] = f"{ident['briefTitle']} ({index})"
        protocol["identificationModule"] = ident
        if index in self.changed:
            protocol["statusModule"] = {
                **self.protocol["statusModule"],
                "overallStatus": "COMPLETED",
            }
        return {"protocolSection": protocol, "hasResults": self.has_results}

    def page(self, query: Mapping[str, list[str]]) -> bytes:
        """One search page as sent; rendered once per content (the timing is the client's)."""
        size = min(int(query.get("pageSize", ["10"])[0]), MAX_PAGE)
        start = int(query.get("pageToken", ["0"])[0])
        # `fields=` names modules in PascalCase ("StatusModule"); the record in camelCase.
        asked = query.get("fields", [""])[0].split("|")
        modules = [name[0].lower() + name[1:] for name in asked if name.endswith("Module")]
        counted = "countTotal" in query
        key = (start, size, tuple(modules), counted, frozenset(self.changed))
        if key not in self.rendered:
            end = min(start + size, self.studies)
            doc: dict[str, Any] = {"studies": [self.study(i, modules) for i in range(start, end)]}
            if counted:
                doc["totalCount"] = self.studies
            if end < self.studies:
                doc["nextPageToken"] = str(end)
            self.rendered[key] = json.dumps(doc).encode()
        return self.rendered[key]

    def warm(self, page_size: int) -> None:
        """Render every page the watcher will ask for now, before it asks."""
        from watchers.ctgov.watcher import FIELDS  # what the watcher asks for (`fields=`)

        for start in range(0, self.studies, page_size):
            query = {"pageSize": [str(page_size)], "fields": [FIELDS]}
            if start:
                query["pageToken"] = [str(start)]
            else:
                query["countTotal"] = ["true"]
            self.page(query)


def serve(studies: int) -> None:
    registry = Registry(studies)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/api/v2/version":
                doc: Any = {
                    "apiVersion": "2.0.5",
                    "dataTimestamp": f"2026-11-{registry.stamp:02d}T09:00:00",
                }
            elif url.path == "/api/v2/studies":
                self.answer(registry.page(query))
                return
            elif url.path == "/_bump_stamp":
                registry.stamp += 1
                doc = {}
            elif url.path.startswith("/_change/"):
                registry.changed.add(int(url.path.rsplit("/", 1)[1]))
                doc = {}
            elif url.path == "/_warm":
                registry.warm(int(query["pageSize"][0]))
                doc = {}
            else:
                self.send_error(404)
                return
            self.answer(json.dumps(doc).encode())

        def answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# --- one poll, in its own process -------------------------------------------------------


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def poll(db_url: str, base_url: str, page_size: int, days_later: int) -> None:
    from bot.polling.pipeline import poll_once
    from state.store import Routes, Store
    from watchers.ctgov.watcher import ClinicalTrialsWatcher
    from watchers.model import SourceResult, Topic
    from watchers.net.http import Http, build_client

    class Timed:
        """The watcher, timing its fetch + parse apart from the store's diff + write."""

        def __init__(self, inner: ClinicalTrialsWatcher) -> None:
            self.inner, self.source, self.seconds, self.cpu = inner, inner.source, 0.0, 0.0

        def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
            tick, cpu = time.perf_counter(), time.process_time()
            try:
                return self.inner.poll(topic, meta)
            finally:
                self.seconds = time.perf_counter() - tick
                self.cpu = time.process_time() - cpu

    store = Store.open(db_url, routes=Routes(default={"console": None}))
    topic = Topic(TOPIC_NAME)
    with build_client(timeout=60) as client:
        http = Http(client, min_interval=0.0)
        watcher = Timed(ClinicalTrialsWatcher(http, base_url=base_url, page_size=page_size))
        ready_mb = vm_rss_mb()
        tick, cpu = time.perf_counter(), time.process_time()
        summary = poll_once(watcher, topic, store, lambda: _now(days_later))
        total, total_cpu = time.perf_counter() - tick, time.process_time() - cpu
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "outcome": summary.outcome.value, "alerts": summary.alerts, "error": summary.error,
        "fetch_s": watcher.seconds, "store_s": total - watcher.seconds, "total_s": total,
        "fetch_cpu": watcher.cpu, "store_cpu": total_cpu - watcher.cpu, "total_cpu": total_cpu,
        "ready_mb": ready_mb, "peak_mb": peak_mb,
    }))  # fmt: skip


def _now(days_later: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=days_later)


# --- the runner ----------------------------------------------------------------------------


def run_poll(db_url: str, base_url: str, page_size: int, days_later: int) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--poll", db_url, base_url,
        "--page-size", str(page_size), "--days-later", str(days_later),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    sample: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if sample["error"]:
        raise RuntimeError(f"the poll failed: {sample['error']}")
    return sample


def spread(values: list[float], digits: int = 1) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=MAX_PAGE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--poll", nargs=2, metavar=("DB_URL", "BASE_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--days-later", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.studies)
        return
    if args.poll:
        poll(*args.poll, args.page_size, args.days_later)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--studies", str(args.studies)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    port = int(server.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    # The last: the first unchanged poll of a new day reads the snapshot (a results clock may
    # move), one record decoded at a time.
    cycles = (
        "cold",
        "refreshed, unchanged",
        "stamp unchanged",
        "refreshed, one changed",
        "stamp unchanged, next day",
    )
    samples: dict[str, list[dict[str, Any]]] = {cycle: [] for cycle in cycles}
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="big-search-") as tmp:
                db = f"sqlite:///{tmp}/tw.db"
                for cycle in cycles:
                    if cycle.startswith("refreshed"):
                        urllib.request.urlopen(f"{base}/_bump_stamp", timeout=10).read()
                    if cycle.endswith("one changed"):
                        urllib.request.urlopen(f"{base}/_change/{run}", timeout=10).read()
                    warm = f"{base}/_warm?pageSize={args.page_size}"
                    urllib.request.urlopen(warm, timeout=300).read()
                    later = 1 if cycle.endswith("next day") else 0
                    sample = run_poll(db, f"{base}/api/v2", args.page_size, later)
                    samples[cycle].append(sample)
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"{args.studies:,} studies, pageSize {args.page_size}, {args.runs} run(s) "
        f"(median [min-max]); load average {' '.join(f'{x:.1f}' for x in _load())}\n"
    )
    print(
        "| poll | outcome | alerts | fetch + parse: wall / CPU | diff + store: wall / CPU "
        "| total: wall / CPU | RSS before | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for cycle, runs in samples.items():
        cells = [
            cycle, runs[0]["outcome"], str(runs[0]["alerts"]),
            *(
                f"{spread([r[f'{part}_s'] for r in runs], 2)} s / "
                f"{spread([r[f'{part}_cpu'] for r in runs], 2)} s"
                for part in ("fetch", "store", "total")
            ),
            f"{spread([r['ready_mb'] for r in runs], 0)} MB",
            f"{spread([r['peak_mb'] for r in runs], 0)} MB",
        ]  # fmt: skip
        print("| " + " | ".join(cells) + " |")


def _load() -> tuple[float, float, float]:
    import os

    return os.getloadavg()


if __name__ == "__main__":
    main()
