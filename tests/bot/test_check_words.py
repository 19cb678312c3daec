"""`check` and `release` say what happened: who delivered, which source ids exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import respx
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from state.store import Store
from state.types import DeliveryState
from tests.bot.digest_factories import add_alert


def config(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path}/tw.db"
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f'[storage]\nurl = "{url}"\n[[topics]]\nname = "ulefnersen"\n'
        '[[sources.feeds]]\nname = "EMA news"\nurl = "https://feeds.example.org/ema.xml"\n'
    )
    return str(path), url


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"SLACK_BOT_TOKEN": "", "COLUMNS": "80"})
    return result.exit_code, result.stdout, result.stderr


def test_check_says_the_running_service_delivered_the_alerts_it_found(tmp_path: Path) -> None:
    path, url = config(tmp_path)
    store = Store.open(url)
    for minutes in (3, 2, 1):
        add_alert(
            store, datetime.now(UTC) - timedelta(minutes=minutes), slack=DeliveryState.PENDING
        )
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE delivery SET destination = 'console'"))

    def service_flushes(request: httpx.Request) -> httpx.Response:
        # While check polls, the running service delivers the pending alerts first.
        with store.engine.begin() as connection:
            connection.execute(
                text("UPDATE delivery SET state = 'sent', delivered_at = :now"),
                {"now": datetime.now(UTC)},
            )
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with respx.mock() as router:
        router.route().mock(side_effect=service_flushes)
        code, out, _ = cli("check", "--config", path)
    store.close()
    assert code == 0
    assert "delivered to console: 0 (3 alert(s) already delivered by the running service)" in out


def test_release_names_an_unknown_source_and_lists_the_known_ids(tmp_path: Path) -> None:
    path, _ = config(tmp_path)
    code, out, err = cli("release", "ulefnersen", "NONSENSE", "--config", path)
    assert code == 2 and out == ""
    assert "unknown source 'NONSENSE'" in err and "feed:EMA news" in err
