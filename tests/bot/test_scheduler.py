"""Scheduler wiring, inspected rather than waited for; jobs called directly with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import open_app
from bot.config import Settings
from bot.service.run import Service
from bot.service.scheduler import (
    FALLBACK_INTERVAL,
    FLUSH_INTERVAL,
    HOUSEKEEPING_INTERVAL,
    build_scheduler,
    jitter_for,
)
from tests.bot.service_helpers import TOPICS, loaded_config
from tests.factories import T0, Clock, trial
from watchers.model import SourceResult, Topic

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def settings(**sections: Any) -> Settings:
    return Settings.model_validate({"topics": TOPICS, **sections})


class Calls:
    def __init__(self) -> None:
        self.polls: list[str] = []
        self.flushes = 0
        self.digests = 0

    def poll(self, source: str) -> None:
        self.polls.append(source)

    def flush(self) -> None:
        self.flushes += 1

    def digest(self) -> None:
        self.digests += 1


def jobs_of(config: Settings, sources: list[str], calls: Calls, **kw: Any) -> dict[str, Any]:
    scheduler = build_scheduler(
        config, sources, poll_job=calls.poll, flush_job=calls.flush, now=NOW, **kw
    )
    return {job.id: job for job in scheduler.get_jobs()}


SOURCES = {
    "clinicaltrials": {"base_url": "https://ct.example/api/v2"},
    "openfda": {"interval": "6h"},
}


def test_one_interval_job_per_source_with_its_interval_and_jitter() -> None:
    calls = Calls()
    jobs = jobs_of(settings(sources=SOURCES), ["clinicaltrials", "openfda", "feed:EMA news"], calls)
    assert set(jobs) == {"poll:clinicaltrials", "poll:openfda", "poll:feed:EMA news", "flush"}
    expected = {
        "poll:clinicaltrials": 3600,  # the registry's default: hourly
        "poll:openfda": 6 * 3600,  # configured
        "poll:feed:EMA news": FALLBACK_INTERVAL,  # no interval known: twice an hour
    }
    for job_id, seconds in expected.items():
        job = jobs[job_id]
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=seconds)
        assert job.trigger.jitter == jitter_for(seconds)
        assert (job.max_instances, job.coalesce) == (1, True)
        assert job.misfire_grace_time == seconds


@pytest.mark.parametrize(("interval", "jitter"), [(60, 6), (900, 90), (3600, 300), (6 * 3600, 300)])
def test_jitter_is_a_tenth_of_the_interval_capped_at_five_minutes(
    interval: float, jitter: int
) -> None:
    assert jitter_for(interval) == jitter


def test_first_polls_come_soon_one_source_at_a_time() -> None:
    jobs = jobs_of(settings(sources=SOURCES), ["clinicaltrials", "openfda", "pubmed"], Calls())
    firsts = [jobs[f"poll:{s}"].next_run_time for s in ("clinicaltrials", "openfda", "pubmed")]
    assert firsts == sorted(set(firsts))  # staggered, never two at once
    assert all(NOW < first <= NOW + timedelta(minutes=1) for first in firsts)


def test_a_source_polled_recently_before_a_restart_waits_until_it_is_due() -> None:
    due = NOW + timedelta(minutes=40)
    overdue = NOW - timedelta(hours=2)
    jobs = jobs_of(
        settings(sources=SOURCES),
        ["clinicaltrials", "openfda"],
        Calls(),
        next_due={"clinicaltrials": due, "openfda": overdue},
    )
    assert jobs["poll:clinicaltrials"].next_run_time == due
    assert jobs["poll:openfda"].next_run_time <= NOW + timedelta(minutes=1)


def test_outbox_flush_every_minute_starting_now() -> None:
    flush = jobs_of(settings(), [], Calls())["flush"]
    assert flush.trigger.interval == timedelta(seconds=FLUSH_INTERVAL)
    assert flush.next_run_time <= NOW + timedelta(seconds=5)
    assert (flush.max_instances, flush.coalesce) == (1, True)


def test_digest_cron_at_its_local_time() -> None:
    digest = {"to": ["team@example.org"], "time": "08:00", "timezone": "Europe/Zurich"}
    calls = Calls()
    jobs = jobs_of(settings(digest=digest), [], calls, digest_job=calls.digest)
    trigger = jobs["digest"].trigger
    assert isinstance(trigger, CronTrigger)
    # 08:00 in Zurich is 07:00 UTC in November (CET) and 06:00 UTC in July (CEST).
    assert trigger.get_next_fire_time(None, NOW) == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    july = datetime(2026, 7, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, july) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert (jobs["digest"].max_instances, jobs["digest"].coalesce) == (1, True)
    jobs["digest"].func()
    assert calls.digests == 1


def test_housekeeping_twice_an_hour_when_given() -> None:
    calls = Calls()
    assert "housekeeping" not in jobs_of(settings(), [], calls)
    job = jobs_of(settings(), [], calls, housekeeping_job=calls.flush)["housekeeping"]
    assert job.trigger.interval == timedelta(seconds=HOUSEKEEPING_INTERVAL)
    assert (job.max_instances, job.coalesce) == (1, True)
    job.func()
    assert calls.flushes == 1


def test_no_digest_job_without_one_or_without_a_digest_section() -> None:
    calls = Calls()
    assert "digest" not in jobs_of(settings(digest={"to": ["a@b.org"]}), [], calls)
    assert "digest" not in jobs_of(settings(), [], calls, digest_job=calls.digest)


def test_the_jobs_call_what_they_were_given() -> None:
    calls = Calls()
    jobs = jobs_of(settings(sources=SOURCES), ["clinicaltrials", "openfda"], calls)
    for job in jobs.values():
        job.func(*job.args)
    assert calls.polls == ["clinicaltrials", "openfda"]
    assert calls.flushes == 1


# -- the service's jobs, called directly with an injected clock ----------------------------------


class FakeWatcher:
    """A source that shows one trial whose status the test sets."""

    source = "clinicaltrials"

    def __init__(self) -> None:
        self.status = "ACTIVE_NOT_RECRUITING"
        self.polled: list[str] = []

    def poll(self, topic: Topic, meta: Any) -> SourceResult:
        self.polled.append(topic.name)
        return SourceResult(
            source="clinicaltrials",
            topic=topic.name,
            observations=(trial(topic=topic.name, overall_status=self.status),),
        )


@pytest.fixture
def service(db_url: str) -> Iterator[tuple[Service, FakeWatcher, list[str], Clock]]:
    clock, printed = Clock(T0), []
    # No Slack token: alerts are delivered to the console, here a list.
    with open_app(loaded_config(db_url), clock=clock, write=printed.append) as app:
        watcher = FakeWatcher()
        app.watchers = [watcher]
        yield Service(app), watcher, printed, clock


def test_poll_job_polls_every_topic_then_delivers(
    service: tuple[Service, FakeWatcher, list[str], Clock],
) -> None:
    svc, watcher, printed, clock = service
    svc.poll("clinicaltrials")  # baseline: silent
    assert watcher.polled == ["ulefnersen", "tofersen"]
    assert printed == []
    clock.advance(hours=1)
    watcher.status = "COMPLETED"
    svc.poll("clinicaltrials")
    assert len(printed) == 2  # one alert per topic, delivered right after the poll
    assert "Status: Active, not recruiting → Completed" in printed[0]
    clock.advance(minutes=1)
    svc.flush()
    assert len(printed) == 2  # nothing delivered twice


def test_next_due_after_a_restart_comes_from_the_last_attempt(
    service: tuple[Service, FakeWatcher, list[str], Clock],
) -> None:
    svc, _, _, clock = service
    assert svc.next_due(clock()) == {}  # never polled: due now
    svc.poll("clinicaltrials")
    restart = clock.advance(minutes=20)
    assert svc.next_due(restart) == {"clinicaltrials": T0 + timedelta(hours=1)}


def test_jobs_do_nothing_once_stopping(
    service: tuple[Service, FakeWatcher, list[str], Clock],
) -> None:
    svc, watcher, _, _ = service
    svc.stop.set()
    svc.poll("clinicaltrials")
    svc.flush()
    assert watcher.polled == []
    assert svc.app.store.health() == []


def test_a_crashing_job_is_logged_and_the_scheduler_goes_on(
    service: tuple[Service, FakeWatcher, list[str], Clock], caplog: pytest.LogCaptureFixture
) -> None:
    svc, _, _, _ = service

    def boom() -> None:
        raise RuntimeError("smtp exploded")

    svc.tracked(boom, "digest")()  # does not raise
    assert "digest job failed" in caplog.text
    assert svc.wait_idle(0)


def test_a_pair_polled_within_half_its_interval_is_skipped_not_polled_again(
    service: tuple[Service, FakeWatcher, list[str], Clock],
) -> None:
    """Two `run` processes on one database share the work: the later one skips a fresh pair."""
    svc, watcher, _printed, clock = service
    svc.poll("clinicaltrials")
    clock.advance(minutes=10)  # ClinicalTrials.gov polls hourly: 10 minutes is too soon
    outcomes = [s.outcome.value for s in svc.app.poll_source("clinicaltrials")]
    assert outcomes == ["skipped", "skipped"]
    assert watcher.polled == ["ulefnersen", "tofersen"]
    clock.advance(minutes=25)
    svc.app.poll_source("clinicaltrials")
    assert watcher.polled == ["ulefnersen", "tofersen"] * 2
