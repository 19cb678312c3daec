"""End to end through the App (real config, respx-mocked registry and history, console output,
an injected clock): a site starts recruiting, the status turns UNKNOWN with its last known
status, and the results clock warns 30 days ahead and then says overdue: each alert once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_app
from bot.config import load_settings
from bot.status.terminal import status_text
from tests.bot.history_world import FUSION
from tests.bot.test_end_to_end import CTGOV, Registry
from tests.factories import Clock


def test_sites_unknown_status_and_both_results_clock_alerts_each_once(
    tmp_path: Path, db_url: str, registry: Registry
) -> None:
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{db_url}"\n'
        f'[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\ntrials = ["{FUSION}"]\n'
        f'[sources.clinicaltrials]\nbase_url = "{CTGOV}"\n'
        "[http]\nmin_interval = 0.001\nmax_retries = 0\nbackoff = 0.001\n"
    )
    protocol = registry.study["protocolSection"]
    status = protocol["statusModule"]
    sites = protocol["contactsLocationsModule"]["locations"]
    # Completed on 2026-08-28: FDA-regulated drug study, results due 2027-08-28.
    status["primaryCompletionDateStruct"] = {"date": "2026-08-28", "type": "ACTUAL"}
    clock = Clock(datetime(2027, 7, 1, 9, tzinfo=UTC))
    printed: list[str] = []

    def check() -> str:
        before = len(printed)
        with open_app(load_settings(str(config), env={}), clock=clock, write=printed.append) as a:
            a.check()
        return "".join(printed[before:])

    assert "changed" not in check()  # baseline: silent, though the clock is running

    # A site starts recruiting.
    sites[0]["status"] = "RECRUITING"
    out = check()
    assert "Now recruiting: Stanford University (Palo Alto, United States)" in out

    # The status turns UNKNOWN; the alert says what it was last known to be.
    status.update(overallStatus="UNKNOWN", lastKnownStatus="ACTIVE_NOT_RECRUITING")
    out = check()
    assert "Status: Active, not recruiting → Unknown (last known: Active, not recruiting)" in out

    # Days pass: 30 days before the due date, one warning; later polls say nothing more.
    warnings = []
    for day in (27, 28, 29, 30):
        clock.now = datetime(2027, 7, day, 9, tzinfo=UTC)
        warnings.append(check())
    assert [w.count("Results are due 2027-08-28, in 30 days") for w in warnings] == [0, 0, 1, 0]

    # The due date passes without results: one overdue alert, once.
    overdue = []
    for day in (27, 28, 29, 30):
        clock.now = datetime(2027, 8, day, 9, tzinfo=UTC)
        overdue.append(check())
    assert [o.count("Results were due 2027-08-28") for o in overdue] == [0, 0, 1, 0]

    with open_app(load_settings(str(config), env={}), clock=clock, write=printed.append) as a:
        text = status_text(a.topics[0], a.store.status("ulefnersen", alerts=10), now=clock())
    assert "Status: Unknown (last known: Active, not recruiting)" in text
    assert "Results clock: results overdue by 2 days (due 2027-08-28)" in text
    assert "1 recruiting: Stanford University (Palo Alto, United States)" in text
