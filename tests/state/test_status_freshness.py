"""`Store.status` remembers a card only while the database is unchanged: never an older answer.

The card is asked for far more often than polls write (every `/status`), so it is kept with a
stamp of what the database held (state/status.py); these tests write in every way the
card can show, from this store and from another one (another process), and read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from state.store import Store
from state.triage_types import TriageAction, TriageKind
from state.types import Alert
from tests.factories import Clock, deliver, fail_delivery, result, trial
from tests.state.helpers import pending_alerts, routed

CONSOLE = {"console": None}


@pytest.fixture
def stores(db_url: str) -> Iterator[tuple[Store, Store]]:
    """The reader (the service answering /status) and a writer with its own connections."""
    reader, writer = Store.open(db_url), Store.open(db_url)
    yield reader, writer
    reader.close()
    writer.close()


def poll(store: Store, at: datetime, **fields: Any) -> list[Alert]:
    """Store one poll of the trial; the alerts it left waiting for the console."""
    routed(store, CONSOLE).apply_poll(result(trial(**fields)), started=at, at=at)
    return pending_alerts(store.outbox, "console")


def statements_run(store: Store) -> list[str]:
    """Collects the SQL the store sends from now on."""
    sent: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_a_poll_stored_through_the_same_store_shows_at_once(stores: tuple[Store, Store]) -> None:
    reader, _ = stores
    clock = Clock()
    poll(reader, clock())
    poll(reader, clock.advance(hours=1), overall_status="COMPLETED")
    before = reader.status("ulefnersen")
    assert before == reader.status("ulefnersen")
    poll(reader, clock.advance(hours=1), overall_status="TERMINATED", why_stopped="Sponsor")
    after = reader.status("ulefnersen")
    assert len(after.recent_alerts) == len(before.recent_alerts) + 1
    assert after.trials[0].observation.fields["overall_status"] == "TERMINATED"


def test_a_poll_stored_by_another_process_shows_at_once(stores: tuple[Store, Store]) -> None:
    reader, writer = stores
    clock = Clock()
    poll(writer, clock())
    for _ in range(3):  # every pooled connection has read (and kept) the card
        assert reader.status("ulefnersen").recent_alerts == ()
    poll(writer, clock.advance(hours=1), overall_status="COMPLETED")
    for _ in range(3):
        status = reader.status("ulefnersen")
        assert len(status.recent_alerts) == 1
        assert status.trials[0].observation.fields["overall_status"] == "COMPLETED"


def test_a_delivery_outcome_and_a_source_failure_show_at_once(
    stores: tuple[Store, Store],
) -> None:
    reader, writer = stores
    clock = Clock()
    poll(writer, clock())
    [alert] = poll(writer, clock.advance(hours=1), overall_status="COMPLETED")
    [console] = reader.status("ulefnersen").destinations
    assert console.pending == 1
    fail_delivery(writer, alert, clock.advance(minutes=1), "console closed", permanent=True)
    status = reader.status("ulefnersen")
    assert [(d.pending, d.failed) for d in status.destinations] == [(0, 1)]
    assert [a.id for a in status.failed_deliveries] == [alert.id]
    routed(writer, {}).record_failure(
        "ulefnersen", "clinicaltrials", "HTTP 503", started=clock(), at=clock()
    )
    [health] = reader.status("ulefnersen").health
    assert health.consecutive_failures == 1 and health.last_error == "HTTP 503"


def test_a_sent_delivery_shows_as_delivered(stores: tuple[Store, Store]) -> None:
    reader, writer = stores
    clock = Clock()
    poll(writer, clock())
    [alert] = poll(writer, clock.advance(hours=1), overall_status="COMPLETED")
    assert reader.status("ulefnersen").destinations[0].last_delivered is None
    deliver(writer, alert, clock.advance(minutes=1))
    assert reader.status("ulefnersen").destinations[0].last_delivered == clock()


def test_an_unchanged_database_is_not_read_again(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL's stamp (its snapshot) moves with a write to ANY database on the
    # server, e.g. another test worker's, which rightly makes the card be read again.
    url = f"sqlite:///{tmp_path / 'trialwatch.db'}"
    reader, writer = Store.open(url), Store.open(url)
    clock = Clock()
    poll(writer, clock())
    poll(writer, clock.advance(hours=1), overall_status="COMPLETED")
    first = reader.status("ulefnersen")
    sent = statements_run(reader)
    assert reader.status("ulefnersen") == first
    assert len(sent) == 1 and "alert" not in sent[0]  # the stamp only, no row read
    assert reader.status("tofersen").trials == ()  # another topic is its own card
    reader.close()
    writer.close()


def test_a_snooze_shows_at_once_and_ends_on_time(stores: tuple[Store, Store]) -> None:
    reader, writer = stores
    clock = Clock()
    poll(writer, clock())
    [alert] = poll(writer, clock.advance(hours=1), overall_status="COMPLETED")
    assert reader.status("ulefnersen", at=clock()).triage.snoozed == ()
    until = clock() + timedelta(minutes=15)
    snooze = TriageAction(
        at=clock(), user_id="U1", user_name="bea", kind=TriageKind.SNOOZE,
        alert_id=alert.id or 0, topic="ulefnersen", source="clinicaltrials",
        record_key="NCT04768972", until=until,
    )  # fmt: skip
    assert writer.triage.record(snooze)
    [snoozed] = reader.status("ulefnersen", at=clock()).triage.snoozed
    assert snoozed.until == until
    clock.now = until  # nothing written since: only the time says the snooze is over
    assert reader.status("ulefnersen", at=clock()).triage.snoozed == ()
