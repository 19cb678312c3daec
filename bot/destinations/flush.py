"""The one outbox loop: lease each due alert, let its destination post it, record the outcome.

Every destination (Slack, the console, each [[notify]] URL) is flushed by this loop, so the
guarantees are written once: a row is leased (committed) before it is posted, so two processes
never post it and a crash leaves a trace; it is marked sent only after the destination said
yes; a transient failure stops this destination's flush (do not hammer it) and leaves the row
for the next flush; an unexplained refusal is counted and, after a few, failed with its reason,
so one poison alert never blocks the queue.

In a destination's quiet hours (bot/destinations/quiet.py) only high alerts are due: normal
and low ones stay pending, untouched, and go out in their original order at the first flush
after the hours end. Nothing about it is stored, so a restart changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.destinations.outlet import (
    DeliveryReport,
    Destination,
    Held,
    Outcome,
    Posted,
    Refused,
    Rerouted,
    RetryLater,
)
from bot.destinations.quiet import QuietHours
from state.outbox import DEFAULT_DELIVERY_LEASE, MAX_REFUSALS, DeliveryLease, Outbox
from state.types import Alert, DeliveryState, Severity

__all__ = ["FLUSH_BATCH", "DeliveryLoop"]

log = logging.getLogger(__name__)

# At most this many deliveries per flush: a long outage drains over a few flushes.
FLUSH_BATCH = 200


class DeliveryLoop:
    """Drains the outbox of one destination, oldest alert first."""

    def __init__(
        self,
        destination: Destination,
        outbox: Outbox,
        clock: Callable[[], datetime],
        *,
        lease: timedelta = DEFAULT_DELIVERY_LEASE,
        max_refusals: int = MAX_REFUSALS,
        quiet: QuietHours | None = None,
    ) -> None:
        self.target = destination
        self.outbox = outbox
        self.clock = clock
        self.lease = lease
        self.max_refusals = max_refusals
        self.quiet = quiet
        self._held_told = 0  # the held count last logged: one line per change, not per flush

    @property
    def destination(self) -> str:
        """The destination's name, as stored on its delivery rows."""
        return self.target.name

    def flush(self) -> DeliveryReport:
        """Deliver every due alert; stop early when the destination is down or throttling."""
        report = DeliveryReport(self.destination)
        quiet = self.quiet is not None and self.quiet.active(self.clock())
        floor = Severity.HIGH if quiet else None
        seen: set[int] = set()
        for _ in range(FLUSH_BATCH):
            alert = self.outbox.next_due(
                self.destination, at=self.clock(), skip=seen, min_severity=floor
            )
            if alert is None or alert.delivery_id is None:
                break
            seen.add(alert.delivery_id)
            if not self.target.ready(alert) and not (quiet and self._parent_held(alert)):
                continue
            lease = self.outbox.take(alert.delivery_id, at=self.clock(), ttl=self.lease)
            if lease is None:
                continue  # another deliverer has just taken it
            outcome = self._post(lease)
            if isinstance(outcome, Rerouted):
                seen.discard(alert.delivery_id)  # due again, for the other channel
            if not self._record(lease, outcome, report):
                break
        report.still_pending = self.outbox.count_pending(self.destination)
        self._tell_held(report, quiet)
        return report

    def _parent_held(self, alert: Alert) -> bool:
        """A follow-up's parent waits for quiet hours: the follow-up (high) goes on its own."""
        parent = alert.change.thread_of
        return parent is not None and self.outbox.waits_below(
            parent, self.destination, Severity.HIGH
        )

    def _tell_held(self, report: DeliveryReport, quiet: bool) -> None:
        """Put quiet hours in the report; one INFO line when what they hold changes."""
        held = self.outbox.count_pending(self.destination, below=Severity.HIGH) if quiet else 0
        if quiet and self.quiet is not None:
            report.quiet_until, report.held = self.quiet.until, held
            if held and held != self._held_told:
                log.info(
                    "%s: quiet hours until %s: %d normal or low alert(s) waiting; high alerts "
                    "still post",
                    self.destination,
                    self.quiet.until,
                    held,
                )
        elif self._held_told:
            log.info("%s: quiet hours are over: posting the alerts that waited", self.destination)
        self._held_told = held

    def _post(self, lease: DeliveryLease) -> Outcome:
        try:
            return self.target.post(lease)
        except Exception as exc:  # a bug in one destination must not crash the run or others
            log.exception("%s: posting alert %s failed", self.destination, lease.alert.id)
            return Refused(f"trialwatch could not post it ({type(exc).__name__})")

    def _record(self, lease: DeliveryLease, outcome: Outcome, report: DeliveryReport) -> bool:
        """Store what happened to one delivery; False when this flush should stop."""
        alert, at, token = lease.alert, self.clock(), lease.token
        assert alert.delivery_id is not None
        delivery_id = alert.delivery_id
        if isinstance(outcome, Posted):
            if not self.outbox.mark_sent(
                delivery_id, at=at, token=token, ref=outcome.ref, channel_id=outcome.channel_id
            ):
                log.warning("alert %s: posted, but its lease had been taken over", alert.id)
            report.sent += 1
            report.found_posted += outcome.found_earlier
            return True
        if isinstance(outcome, Held):
            self.outbox.hold(
                delivery_id, at=at, token=token, state=outcome.state, why=outcome.reason
            )
            report.triaged += 1
            return True
        report.errors.append(f"alert {alert.id}: {outcome.reason}")
        log.warning("%s: alert %s not delivered: %s", self.destination, alert.id, outcome.reason)
        if isinstance(outcome, Rerouted):
            self.outbox.reroute(
                delivery_id, at=at, error=outcome.reason, to_channel=outcome.to_channel, token=token
            )
            report.rerouted += 1
            return True
        if isinstance(outcome, RetryLater):
            self.outbox.mark_attempt_failed(
                delivery_id,
                at=at,
                error=outcome.reason,
                token=token,
                maybe_posted=outcome.maybe_posted,
            )
            return False
        if isinstance(outcome, Refused):
            state = self.outbox.refuse(
                delivery_id, at=at, error=outcome.reason, token=token, limit=self.max_refusals
            )
            if state is DeliveryState.FAILED:
                report.failed += 1
            else:
                report.refused += 1
            return True
        self.outbox.mark_attempt_failed(
            delivery_id, at=at, error=outcome.reason, token=token, permanent=True
        )
        report.failed += 1
        return True
