"""How fast the dashboard's topic page renders with 10,000 alerts stored.

    python bench/dashboard_render.py [--alerts 10000] [--runs 50]

Seeds a temporary SQLite database with FUSION (its registry history included) and `--alerts`
alerts for the topic, then renders `/topics/ulefnersen` (store reads + HTML) `--runs` times and
prints the median, p95 and max.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session

from bot.dashboard.serve import render_topic
from state.schema import AlertRow
from state.store import Routes, Store
from tests.factories import result, trial
from tests.state.test_timeline import fusion_versions
from watchers.model import Topic

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TOPIC = Topic("ulefnersen", aliases=("ION363",), trials=("NCT04768972",))


def seed(store: Store, alerts: int) -> None:
    """The trial, its 4 registry versions, and `alerts` stored alerts (bulk inserted)."""
    store.apply_poll(result(trial()), started=T0, at=T0)
    for version in fusion_versions():
        store.history.add(version, at=T0)
    changes = json.dumps([{"field": "enrollment", "label": "Enrollment", "before": "95",
                           "after": "96", "text": "Enrollment: 95 → 96"}])  # fmt: skip
    with Session(store.engine) as session:
        for n in range(alerts):
            session.add(
                AlertRow(
                    created_at=T0 + timedelta(minutes=n),
                    kind="updated",
                    topic=TOPIC.name,
                    source="clinicaltrials",
                    key="NCT04768972",
                    title=f"FUSION <b>update</b> {n}",
                    url="https://clinicaltrials.gov/study/NCT04768972",
                    severity="normal",
                    field_changes_json=changes,
                )
            )
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(
            f"sqlite:///{Path(tmp) / 'bench.db'}", routes=Routes(default={"console": None})
        )
        seed(store, args.alerts)
        now = T0 + timedelta(days=30)
        render_topic(store, TOPIC, now)  # warm up
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            page = render_topic(store, TOPIC, now)
            times.append((time.perf_counter() - started) * 1000)
        store.close()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"topic page with {args.alerts:,} alerts stored ({len(page):,} bytes): "
        f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
