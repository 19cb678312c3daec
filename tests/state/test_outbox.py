"""The outbox on a real database: leases, in-flight rows, outcomes, re-routes, thread parents."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from state.outbox import Outbox
from state.store import Route, Store
from state.types import Alert, DeliveryState, Severity
from tests.factories import Clock, result, trial
from tests.state.helpers import pending_alerts, routed

SLACK = {"slack": "#fus-als-watch"}
TTL = timedelta(minutes=5)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def make_alerts(store: Store, clock: Clock, count: int = 1) -> list[Alert]:
    """`count` pending Slack alerts (one per changed trial), oldest first."""
    trials = [f"NCT0{4768972 + i}" for i in range(count)]
    routed(store, SLACK).apply_poll(
        result(*(trial(t) for t in trials)), started=clock(), at=clock()
    )
    changed = result(*(trial(t, overall_status="COMPLETED") for t in trials))
    routed(store, SLACK).apply_poll(changed, started=clock(), at=clock())
    return pending_alerts(store.outbox, "slack")


def delivery_id(alert: Alert) -> int:
    assert alert.delivery_id is not None
    return alert.delivery_id


def test_taken_row_is_in_flight_and_not_due_to_anyone_else(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert lease is not None
    assert lease.unverified_since is None  # never attempted: nothing to look up first
    assert outbox.take(delivery_id(alert), at=clock(), ttl=TTL) is None
    assert outbox.next_due("slack", at=clock()) is None
    [still] = pending_alerts(store.outbox, "slack")  # in flight is still "not delivered"
    assert still.state is DeliveryState.IN_FLIGHT
    assert outbox.count_pending("slack") == 1


def test_a_crashed_deliverers_row_is_taken_over_after_its_lease(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    attempted = clock()
    crashed = outbox.take(delivery_id(alert), at=attempted, ttl=TTL)
    assert crashed is not None
    clock.advance(minutes=4)
    assert outbox.next_due("slack", at=clock()) is None
    clock.advance(minutes=2)
    assert outbox.next_due("slack", at=clock()) is not None
    takeover = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert takeover is not None
    # The crashed attempt may have posted: the new holder is told since when to look.
    assert takeover.unverified_since == attempted
    # The crashed deliverer's late answer changes nothing: its lease is gone.
    assert not outbox.mark_sent(delivery_id(alert), at=clock(), ref="1.1", token=crashed.token)
    assert outbox.mark_sent(delivery_id(alert), at=clock(), ref="2.2", token=takeover.token)
    assert pending_alerts(store.outbox, "slack") == []


def test_transient_failure_returns_the_row_and_remembers_a_maybe_posted_attempt(
    store: Store,
) -> None:
    clock, outbox = Clock(), store.outbox
    first, second = make_alerts(store, clock, 2)
    for alert, maybe_posted in ((first, True), (second, False)):
        lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
        assert lease is not None
        assert outbox.mark_attempt_failed(
            delivery_id(alert),
            at=clock(),
            error="no answer from Slack (TimeoutError)",
            token=lease.token,
            maybe_posted=maybe_posted,
        )
    clock.advance(minutes=1)
    again = [outbox.take(delivery_id(a), at=clock(), ttl=TTL) for a in (first, second)]
    assert [lease.unverified_since if lease else "lost" for lease in again] == [
        clock() - timedelta(minutes=1),
        None,
    ]
    [pending, *_] = pending_alerts(store.outbox, "slack")
    assert pending.attempts == 1
    assert pending.last_error == "no answer from Slack (TimeoutError)"


def test_permanent_failure_is_failed_for_good_and_shown_in_status(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert lease is not None
    outbox.mark_attempt_failed(
        delivery_id(alert),
        at=clock(),
        error="Slack said invalid_blocks",
        permanent=True,
        token=lease.token,
    )
    assert pending_alerts(store.outbox, "slack") == []
    assert outbox.next_due("slack", at=clock() + timedelta(days=1)) is None
    [failed] = store.status("ulefnersen").failed_deliveries
    assert failed.last_error == "Slack said invalid_blocks"


def test_reroute_moves_the_delivery_to_the_default_channel_and_keeps_why(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert lease is not None
    assert outbox.reroute(
        delivery_id(alert),
        at=clock(),
        error="Slack said channel_not_found",
        to_channel="#trial-alerts",
        token=lease.token,
    )
    [queued] = pending_alerts(store.outbox, "slack")  # still one delivery per alert and destination
    assert (queued.id, queued.channel, queued.meant_for) == (
        alert.id,
        "#trial-alerts",
        "#fus-als-watch",
    )
    again = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert again is not None  # re-routed once only: a second re-route is refused
    assert not outbox.reroute(
        delivery_id(alert), at=clock(), error="x", to_channel="#elsewhere", token=again.token
    )
    outbox.mark_sent(delivery_id(alert), at=clock(), ref="1.2", token=again.token)
    [shown] = store.status("ulefnersen").failed_deliveries
    assert shown.state is DeliveryState.SENT
    assert shown.last_error == (
        "Slack said channel_not_found in #fus-als-watch; re-routed to #trial-alerts"
    )


def test_thread_parent_waits_then_points_at_the_parents_message(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [parent] = make_alerts(store, clock)
    assert outbox.thread_parent(parent.id, "slack").waiting
    lease = outbox.take(delivery_id(parent), at=clock(), ttl=TTL)
    assert lease is not None
    assert outbox.thread_parent(parent.id, "slack").waiting  # in flight: no ts yet
    outbox.mark_sent(
        delivery_id(parent), at=clock(), ref="1700.000001", channel_id="C0FUS", token=lease.token
    )
    found = outbox.thread_parent(parent.id, "slack")
    assert (found.waiting, found.channel, found.ts) == (False, "C0FUS", "1700.000001")
    assert outbox.channel_id("#fus-als-watch") == "C0FUS"
    assert outbox.thread_parent(parent.id, "console") == type(found)()  # never sent there


def test_deliverers_racing_for_every_row_take_each_once(db_url: str) -> None:
    """Eight deliverers (own engines, like processes) grab 30 rows: each row goes to one."""
    clock = Clock()
    setup = Store.open(db_url)
    alerts = make_alerts(setup, clock, 30)
    setup.close()
    won: list[int] = []
    lock, start = threading.Lock(), threading.Barrier(8)

    def deliverer() -> None:
        store = Store.open(db_url)
        outbox: Outbox = store.outbox
        start.wait()
        for alert in alerts:
            if outbox.take(delivery_id(alert), at=clock(), ttl=TTL) is not None:
                with lock:
                    won.append(delivery_id(alert))
        store.close()

    threads = [threading.Thread(target=deliverer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == sorted(delivery_id(a) for a in alerts)


def test_refusals_are_counted_apart_and_fail_the_delivery_at_the_limit(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert lease is not None  # a transient failure first: it does not count as a refusal
    outbox.mark_attempt_failed(delivery_id(alert), at=clock(), error="HTTP 503", token=lease.token)
    states = []
    for _ in range(3):
        clock.advance(minutes=1)
        lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
        assert lease is not None
        states.append(
            outbox.refuse(delivery_id(alert), at=clock(), error="Slack said odd", token=lease.token)
        )
    assert states == [DeliveryState.PENDING, DeliveryState.PENDING, DeliveryState.FAILED]
    [failed] = store.status("ulefnersen").failed_deliveries
    assert (failed.attempts, failed.last_error) == (4, "Slack said odd")


def test_a_refusal_by_a_deliverer_that_lost_its_lease_is_ignored(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    [alert] = make_alerts(store, clock)
    stale = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
    assert stale is not None
    clock.advance(minutes=6)
    assert outbox.take(delivery_id(alert), at=clock(), ttl=TTL) is not None
    assert outbox.refuse(delivery_id(alert), at=clock(), error="x", token=stale.token) is None


def test_destination_health_tells_waiting_retrying_and_failed_apart(store: Store) -> None:
    clock, outbox = Clock(), store.outbox
    first, second, third = make_alerts(store, clock, 3)
    assert [h.failing for h in outbox.health(["slack", "teams"])] == [False, False]
    for alert, outcome in ((first, "sent"), (second, "failed")):
        lease = outbox.take(delivery_id(alert), at=clock(), ttl=TTL)
        assert lease is not None
        if outcome == "sent":
            outbox.mark_sent(delivery_id(alert), at=clock(), token=lease.token, ref="1.1")
        else:
            outbox.mark_attempt_failed(
                delivery_id(alert),
                at=clock(),
                error="invalid_blocks",
                token=lease.token,
                permanent=True,
            )
    [slack, teams] = outbox.health(["slack", "teams"])
    assert (slack.pending, slack.failed, slack.last_failed_error) == (1, 1, "invalid_blocks")
    assert slack.failing  # its latest outcome was a failure
    assert teams == type(teams)("teams")  # configured, nothing yet
    clock.advance(minutes=1)
    lease = outbox.take(delivery_id(third), at=clock(), ttl=TTL)
    assert lease is not None
    outbox.mark_attempt_failed(delivery_id(third), at=clock(), error="HTTP 503", token=lease.token)
    [slack] = outbox.health()
    assert (slack.retry_error, slack.retry_since) == ("HTTP 503", clock())


ELSEWHERE = ("Elsewhere | Paris |  | France | RECRUITING",)  # one site, stored form


def test_a_route_with_a_minimum_severity_skips_lesser_alerts(store: Store) -> None:
    clock = Clock()
    routes = {"slack": Route("#fus-als-watch"), "teams": Route(min_severity=Severity.HIGH)}
    routed(store, routes).apply_poll(result(trial()), started=clock(), at=clock())
    # A change of sites is below high; a suspension is high (state/fields.py).
    routed(store, routes).apply_poll(result(trial(sites=ELSEWHERE)), started=clock(), at=clock())
    routed(store, routes).apply_poll(
        result(trial(sites=ELSEWHERE, overall_status="SUSPENDED")),
        started=clock(),
        at=clock(),
    )
    assert len(pending_alerts(store.outbox, "slack")) == 2
    [high] = pending_alerts(store.outbox, "teams")
    assert high.change.severity is Severity.HIGH
    assert (high.channel, Route().accepts(Severity.LOW)) == (None, True)
