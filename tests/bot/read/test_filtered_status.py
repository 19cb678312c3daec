"""`trialwatch status NAME --since 7d --severity high`: only the matching alerts, their honest
count, and a clear error for a value it cannot read."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from state.store import Store
from tests.bot.read.world import seed_world


def test_status_since_and_severity_filter_the_card(tmp_path: Path, db_url: str) -> None:
    store = Store.open(db_url)
    seed_world(store, extra=20)  # 5 high (pubmed), 15 low, from T0 + 3 days on
    store.close()
    config = tmp_path / "trialwatch.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n[[topics]]\nname = "ulefnersen"\n')

    def status(*options: str) -> str:
        answer = CliRunner().invoke(
            app, ["status", "ulefnersen", "--config", str(config), *options]
        )
        assert answer.exit_code == 0, answer.output
        return answer.output

    high = status("--severity", "high", "--since", "2026-11-04", "--all")
    assert high.count("[high]") == 5 and "[low]" not in high and "more alert" not in high
    # The 2 seeded before T0 + 3 days are left out; 22 alerts are stored in all.
    some = status("--since", "2026-11-04")
    assert some.count("[low]") + some.count("[high]") == 5 and "15 more alerts" in some
    bad = CliRunner().invoke(
        app, ["status", "ulefnersen", "--config", str(config), "--since", "yesterday"]
    )
    assert bad.exit_code == 2 and "7d" in bad.output
