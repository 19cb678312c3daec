"""Digest bookkeeping: the alerts of a digest window, and the once-a-day send ledger.

The ledger is at-most-once: a send is claimed (committed) BEFORE the SMTP conversation and marked
sent after it. A process that dies between the two leaves the claim in state `sending`; nothing
sends that day's digest to that list again on its own (the mail may or may not have left), and
`trialwatch digest --send --force` is the deliberate way to resend. A send that failed with an
SMTP error is marked `failed` and may be claimed again the same day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import and_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from state.codec import alert_from_rows, aware
from state.schema import AlertRow, DeliveryRow, DigestRunRow
from state.types import Alert

__all__ = [
    "DigestClaim",
    "DigestRun",
    "DigestState",
    "alerts_between",
    "claim_digest",
    "digest_run",
    "mark_digest_failed",
    "mark_digest_sent",
    "normalise_recipients",
]


class DigestState(StrEnum):
    SENDING = "sending"  # claimed, not (yet) confirmed: the crash window
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class DigestRun:
    """The ledger entry of one day's digest to one recipient list."""

    day: date
    recipients: tuple[str, ...]
    state: DigestState
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    alerts: int
    message_id: str | None
    error: str | None


@dataclass(frozen=True)
class DigestClaim:
    """Whether this caller may send now, and the ledger entry as it stands after the attempt."""

    claimed: bool
    run: DigestRun


def normalise_recipients(recipients: Iterable[str]) -> tuple[str, ...]:
    """Addresses trimmed, lower-cased, de-duplicated and sorted: one list, one key."""
    return tuple(sorted({r.strip().lower() for r in recipients if r.strip()}))


def _key(recipients: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(recipients).encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    # SQLite stores naive text: compare and store everything as UTC.
    return value.astimezone(UTC)


def _run(row: DigestRunRow) -> DigestRun:
    return DigestRun(
        day=row.day,
        recipients=tuple(row.recipients.split("\n")),
        state=DigestState(row.state),
        attempts=row.attempts,
        claimed_at=aware(row.claimed_at) or row.claimed_at,
        sent_at=aware(row.sent_at),
        alerts=row.alerts,
        message_id=row.message_id,
        error=row.error,
    )


def alerts_between(session: Session, start: datetime, end: datetime) -> list[Alert]:
    """Alerts created in [start, end), oldest first, each with its Slack delivery (if any)."""
    rows = session.exec(
        select(AlertRow, DeliveryRow)
        .outerjoin(
            DeliveryRow,
            and_(
                col(DeliveryRow.alert_id) == col(AlertRow.id),
                col(DeliveryRow.destination) == "slack",
            ),
        )
        .where(col(AlertRow.created_at) >= _utc(start), col(AlertRow.created_at) < _utc(end))
        .order_by(col(AlertRow.created_at), col(AlertRow.id))
    ).all()
    return [alert_from_rows(a, d) for a, d in rows]


def _row(session: Session, day: date, key: str) -> DigestRunRow | None:
    query = select(DigestRunRow).where(DigestRunRow.day == day, DigestRunRow.recipients_key == key)
    return session.exec(query).first()


def digest_run(session: Session, day: date, recipients: Iterable[str]) -> DigestRun | None:
    """The ledger entry of `day` for this recipient list, if any send was ever claimed."""
    row = _row(session, day, _key(normalise_recipients(recipients)))
    return _run(row) if row else None


def claim_digest(
    session: Session, day: date, recipients: Iterable[str], *, at: datetime, force: bool
) -> DigestClaim:
    """Atomically claim the right to send `day`'s digest; a sent or in-flight one only if forced."""
    normal = normalise_recipients(recipients)
    key = _key(normal)
    session.add(
        DigestRunRow(
            day=day,
            recipients_key=key,
            recipients="\n".join(normal),
            state=DigestState.SENDING.value,
            attempts=1,
            claimed_at=_utc(at),
        )
    )
    try:
        session.commit()
        claimed = True
    except IntegrityError:
        # Someone claimed this day before (or concurrently): the unique constraint decided.
        session.rollback()
        claimable = [DigestState.FAILED.value]
        if force:
            claimable += [DigestState.SENT.value, DigestState.SENDING.value]
        # One conditional UPDATE: on PostgreSQL the row lock re-checks `state`, so of two
        # concurrent claimers of a failed run only one sees a row count of 1.
        result = session.exec(
            update(DigestRunRow)
            .where(
                col(DigestRunRow.day) == day,
                col(DigestRunRow.recipients_key) == key,
                col(DigestRunRow.state).in_(claimable),
            )
            .values(
                state=DigestState.SENDING.value,
                attempts=col(DigestRunRow.attempts) + 1,
                claimed_at=_utc(at),
                error=None,
            )
        )
        claimed = result.rowcount == 1
        session.commit()
    row = _row(session, day, key)
    assert row is not None  # inserted above or by the claim that beat us
    return DigestClaim(claimed=claimed, run=_run(row))


def mark_digest_sent(
    session: Session,
    day: date,
    recipients: Iterable[str],
    *,
    at: datetime,
    alerts: int,
    message_id: str,
) -> None:
    """The SMTP server accepted the digest: never send this day's again unless forced."""
    row = _row(session, day, _key(normalise_recipients(recipients)))
    assert row is not None, "mark_digest_sent without a claim"
    row.state = DigestState.SENT.value
    row.sent_at = _utc(at)
    row.alerts = alerts
    row.message_id = message_id
    row.error = None
    session.add(row)
    session.commit()


def mark_digest_failed(
    session: Session, day: date, recipients: Iterable[str], *, error: str
) -> None:
    """The send failed before the server accepted it: a later claim the same day may retry."""
    row = _row(session, day, _key(normalise_recipients(recipients)))
    assert row is not None, "mark_digest_failed without a claim"
    row.state = DigestState.FAILED.value
    row.error = error
    session.add(row)
    session.commit()
