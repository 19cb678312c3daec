"""An unchanged `check` loads no library it never uses: their import is CPU on every cycle.

Each run is a fresh interpreter that lists the modules it imported (as test_fast_start.py
does); no timing is asserted.
"""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_fast_start import closed_port, config_for, loaded, run_cli, store_one_trial

# httpx's command-line tool pulls these in; `check` prints plain text and parses with typer.
NOT_FOR_CHECK = ("rich", "pygments", "click")


def test_check_loads_no_terminal_rendering_library(tmp_path: Path, sqlite_url: str) -> None:
    feed = '[http]\nmax_retries = 0\n[[sources.feeds]]\nname = "local"\n'
    feed += f'url = "http://127.0.0.1:{closed_port()}/feed.xml"\n'
    config = config_for(tmp_path, store_one_trial(sqlite_url), feed)
    code, output, modules = run_cli("check", "--config", config)
    assert code == 0
    assert "1 failed" in output  # it polled the feed (refused) over httpx
    assert "httpx" in modules and "watchers.feeds.watcher" in modules
    assert loaded(modules, NOT_FOR_CHECK) == []
