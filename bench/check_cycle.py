"""How long one `trialwatch check` takes on the test fixtures, every source mocked (no network).

    python bench/check_cycle.py [--runs 10]

Runs the real CLI entry point in-process against respx-mocked sources serving the fixtures in
tests/fixtures/, on a fresh SQLite database, with request pacing off (`[http].min_interval` is
tiny) so the figure is trialwatch's own work: fetch handling, parsing, diffing, storing,
delivering to the console. The first run is the silent baseline; the rest are unchanged cycles.
With the default pacing of one request per second per host, add about one second per extra
request to the same host.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import respx
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli import app  # noqa: E402

FIX = ROOT / "tests" / "fixtures"
CONFIG = """
[storage]
url = "sqlite:///{db}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363"]
trials = ["NCT04768972"]
conditions = ["FUS-ALS"]

[sources.clinicaltrials]
[sources.openfda]
[sources.ema_medicines]
[sources.google_news]
[sources.pubmed]

[[sources.feeds]]
name = "FDA press releases"
url = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
authority = "FDA"

[[sources.feeds]]
name = "EMA news"
url = "https://www.ema.europa.eu/en/news.xml"
authority = "EMA"

[http]
min_interval = 0.001
"""


def _file(*parts: str) -> bytes:
    return FIX.joinpath(*parts).read_bytes()


def _routes(router: respx.MockRouter) -> None:
    ct = "https://clinicaltrials.gov/api/v2"
    router.get(f"{ct}/version").respond(json={"apiVersion": "2.0.5", "dataTimestamp": "x"})
    router.get(f"{ct}/studies/NCT04768972").respond(content=_file("ctgov", "ctgov_study.json"))
    router.get(f"{ct}/studies").respond(
        content=_file("ctgov", "ctgov_search_ulefnersen_page1.json")
    )
    router.get(url__startswith="https://api.fda.gov/drug/drugsfda.json").respond(
        404, content=_file("openfda", "openfda_error_not_found.json")
    )
    router.get(url__startswith="https://www.ema.europa.eu/en/documents/report/").respond(
        content=_file("ema", "ema_medicines_json_report.json")
    )
    router.get(url__startswith="https://news.google.com/rss/search").respond(
        content=_file("news", "google_news_rss.xml")
    )
    eutils = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    router.get(f"{eutils}/esearch.fcgi").respond(content=_file("news", "pubmed_esearch.json"))
    router.get(f"{eutils}/esummary.fcgi").respond(content=_file("news", "pubmed_esummary.json"))
    router.get(url__startswith="https://www.fda.gov/").respond(
        content=_file("feeds", "fda_press_releases_ulefnersen_derived.xml")
    )
    router.get("https://www.ema.europa.eu/en/news.xml").respond(
        content=_file("feeds", "ema_news_rss_ulefnersen_derived.xml")
    )


def main() -> None:
    """Print the baseline time and the median of the unchanged cycles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="unchanged cycles after the baseline")
    args = parser.parse_args()
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp, respx.mock(assert_all_called=False) as router:
        _routes(router)
        config = Path(tmp) / "trialwatch.toml"
        config.write_text(CONFIG.format(db=Path(tmp) / "bench.db"))
        times, calls = [], []
        for _ in range(args.runs + 1):
            before = len(router.calls)
            start = time.perf_counter()
            result = runner.invoke(
                app, ["check", "--config", str(config)], env={"SLACK_BOT_TOKEN": ""}
            )
            times.append(time.perf_counter() - start)
            calls.append(len(router.calls) - before)
            if result.exit_code != 0:
                raise SystemExit(result.output)
    unchanged = times[1:]
    print("sources: 7 (ClinicalTrials.gov, openFDA, EMA medicines, Google News, PubMed, 2 feeds)")
    print(f"baseline check: {times[0] * 1000:.0f} ms, {calls[0]} requests")
    print(
        f"unchanged check: median {statistics.median(unchanged) * 1000:.0f} ms "
        f"(min {min(unchanged) * 1000:.0f}, max {max(unchanged) * 1000:.0f}) "
        f"over {len(unchanged)} runs, {statistics.median(calls[1:]):.0f} requests each"
    )


if __name__ == "__main__":
    main()
