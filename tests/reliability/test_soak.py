"""The soak, shortened: 4 simulated days of failing, changing sources (full run: bench/soak.py).

Every change the fakes made is alerted exactly once, every outage gives one "down" and one
"recovered", every alert is delivered once, and what is not kept forever (poll runs, feed
items long gone) stops growing once the retention starts pruning.
"""

from __future__ import annotations

from datetime import timedelta

from bench.soak import START, run_soak

DAYS = 4
RETENTION = 1
WINDOW = 4  # feed items drop out fast, so alerted ones age out within the run
POLLS_PER_TOPIC_DAY = 24 + 4 + 48 + 48 + 24  # trials, openFDA, a feed, news, PubMed


def test_days_of_polling_every_change_alerted_exactly_once_and_growth_bounded(db_url: str) -> None:
    result = run_soak(
        db_url, days=DAYS, seed=7, topics=("ulefnersen",), retention_days=RETENTION, window=WINDOW
    )

    assert result.polls == DAYS * POLLS_PER_TOPIC_DAY
    assert result.faults > result.polls * 0.03  # 5 % at random, plus outages
    assert result.changes > 30
    assert result.health_alerts > 0  # at least one outage went past the threshold
    assert result.lost == []
    assert result.duplicated == []
    assert result.health_mismatches == {}
    assert result.deliveries_not_once == 0
    assert result.item_alerts == result.changes

    # Kept forever: alerts and their deliveries.
    last = result.days[-1]
    assert last.rows["alert"] == last.rows["delivery"] == result.item_alerts + result.health_alerts
    # Pruned: poll runs older than the retention, feed items long gone (and alerted).
    assert result.pruned_runs > 0
    assert result.pruned_items > 0
    assert last.rows["poll_run"] <= (RETENTION + 1) * POLLS_PER_TOPIC_DAY
    settled = result.days[RETENTION]
    assert last.rows["poll_run"] <= settled.rows["poll_run"] * 1.1
    # Feed items kept: the first poll's (never alerted, so remembered by their rows), those in
    # the window now, and those that left it less than the retention (+ an hour) ago.
    end = START + timedelta(days=DAYS)
    recent = sum(1 for at in result.arrivals if at > end - timedelta(days=RETENTION, hours=1))
    event_sources = 3
    assert len(result.arrivals) > 2 * event_sources * WINDOW  # items came and went
    assert last.rows["feed_items"] <= 2 * event_sources * WINDOW + recent
