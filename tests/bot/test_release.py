"""`trialwatch release TOPIC SOURCE [--drop]`: a held storm is posted, or dropped, on request."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from state.store import Store
from tests.factories import Clock
from tests.state.helpers import routed
from watchers.model import Observation, SourceResult, freeze_fields


def item(n: int) -> Observation:
    return Observation(
        source="google_news",
        key=f"https://news.example/{n}",
        topic="ulefnersen",
        title=f"Story {n}: cohort{n} biomarker{n} dosing{n}",
        url=f"https://news.example/{n}",
        fields=freeze_fields({"_authority": "news", "_outlet": "Wire", "_claim": None}),
    )


def storm(tmp_path: Path) -> Path:
    """A config whose database holds one poll's 4 alerts, held (max_per_poll = 3)."""
    db = tmp_path / "trialwatch.db"
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{db}"\n[alerts]\nmax_per_poll = 3\n'
        '[[topics]]\nname = "ulefnersen"\n'
    )
    store, clock = Store.open(f"sqlite:///{db}", max_per_poll=3), Clock()
    for items in ((), tuple(item(n) for n in range(4))):
        clock.advance(hours=1)
        result = SourceResult("google_news", "ulefnersen", items)
        routed(store, {"console": None}).apply_poll(result, started=clock(), at=clock())
    store.close()
    return config


def test_check_posts_only_the_notice_and_release_posts_the_rest(tmp_path: Path) -> None:
    config = storm(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["release", "ulefnersen", "google_news", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "released 4 held deliveries for ulefnersen from google_news" in first.output
    # Delivered at once: the notice (never held; no flush ran yet) and the four.
    assert "4 changes from Google News in one poll, held" in first.output
    assert all(f"Story {n}:" in first.output for n in range(4))
    again = runner.invoke(app, ["release", "ulefnersen", "google_news", "--config", str(config)])
    assert "no held alerts for ulefnersen from google_news" in again.output


def test_drop_never_posts_them(tmp_path: Path) -> None:
    config = storm(tmp_path)
    args = ["release", "ulefnersen", "google_news", "--drop", "--config", str(config)]
    dropped = CliRunner().invoke(app, args)
    assert dropped.exit_code == 0, dropped.output
    assert "dropped 4 held deliveries" in dropped.output
    assert "Story 0:" not in dropped.output
