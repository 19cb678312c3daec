"""How long one poll bringing N new, distinct news items takes to fold and store (no network).

    python bench/story_folding.py [--items 3000] [--stories 50]

On a fresh SQLite database: a silent baseline, one poll with `--stories` earlier news items
(alerted), then the measured poll with `--items` new headlines that all name the topic but tell
different stories, so every item is compared with every story told before it (the worst case
for story folding). Prints the wall time of the measured `Store.apply_poll`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from state.store import Routes, Store  # noqa: E402
from watchers.model import Observation, SourceResult, freeze_fields  # noqa: E402

SOURCE, TOPIC = "google_news", "ulefnersen"
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zen", "dor", "fal", "gri")


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _item(n: int, title: str) -> Observation:
    fields = {"_authority": "news", "_outlet": f"Outlet {n % 40}", "_summary": None}
    fields |= {"_claim": None, "_regulator": None, "_safety": False}
    return Observation(
        source=SOURCE,
        key=f"https://news.example.org/{n}",
        topic=TOPIC,
        title=title,
        url=f"https://news.example.org/{n}",
        fields=freeze_fields(fields),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--stories", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(9)
    words = _vocabulary(rng, 5000)

    def headline() -> str:
        return f"{TOPIC} " + " ".join(rng.sample(words, 8))

    items = [_item(n, headline()) for n in range(1 + args.stories + args.items)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db", routes=Routes(default={"console": None}))
        at = datetime(2026, 11, 1, tzinfo=UTC)

        def poll(batch: list[Observation]) -> tuple[float, int]:
            nonlocal at
            at += timedelta(hours=1)
            started = time.perf_counter()
            report = store.apply_poll(
                SourceResult(SOURCE, TOPIC, tuple(batch)),
                started=at,
                at=at,
            )
            return time.perf_counter() - started, len(report.changes)

        poll(items[:1])  # the silent baseline
        poll(items[: 1 + args.stories])
        took, alerts = poll(items)
        store.close()
    print(f"{args.items} new items against {args.stories} stories: {took:.2f} s, {alerts} alerts")


if __name__ == "__main__":
    main()
