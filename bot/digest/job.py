"""Send a day's digest once: claim it in the store, mail it, mark it (the scheduler's cron job).

At most once per day and recipient list: the claim is committed before the SMTP conversation.
If the process dies after the claim and before marking, that day's digest is not sent again
automatically (it may already have arrived); `trialwatch digest --send --force` resends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.app import App
from bot.config import DigestSettings
from bot.digest.assemble import Digest, assemble_digest, digest_day, digest_window
from bot.digest.mailer import Mailer, MailError, build_message
from bot.digest.render import digest_subject, render_html, render_text
from state.digest_log import DigestRun, DigestState, normalise_recipients

__all__ = [
    "MAX_ATTEMPTS",
    "DigestOutcome",
    "DigestStatus",
    "build_digest",
    "digest_job_for",
    "digest_retry_job_for",
    "digest_settings",
    "preview_note",
    "retry_failed_digest",
    "send_digest",
    "window_note",
]

log = logging.getLogger(__name__)

# Automatic retries of a failed send per day (a manual `--send` is not limited).
MAX_ATTEMPTS = 5


class DigestStatus(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    IN_FLIGHT = "in_flight"  # claimed by another run (or one that died mid-send)
    QUIET = "quiet"  # nothing to say and [digest].send_when_quiet = false
    NOT_CONFIGURED = "not_configured"
    NOT_DUE = "not_due"  # the day's window has not closed: alerts may still join it
    FAILED = "failed"


@dataclass(frozen=True)
class DigestOutcome:
    """What one send attempt did, with a sentence for people."""

    day: date
    status: DigestStatus
    message: str
    events: int = 0
    run: DigestRun | None = None


def digest_settings(app: App) -> DigestSettings:
    """`[digest]`, or its defaults (for previews) when the section is absent."""
    return app.config.settings.digest or DigestSettings()


def build_digest(app: App, *, now: datetime, day: date | None = None) -> Digest:
    """The digest of `day`, by default the one whose time most recently passed at `now`."""
    settings = digest_settings(app)
    day = day or digest_day(now, settings.time, settings.timezone)
    guidance = {t.name: t.milestones for t in app.config.settings.topics}
    return assemble_digest(app.store, day, settings, [t.name for t in app.topics], guidance)


def send_digest(
    app: App,
    *,
    now: datetime,
    force: bool = False,
    day: date | None = None,
    mailer: Mailer | None = None,
) -> DigestOutcome:
    """Mail the day's digest unless it was already sent (or claimed) for this recipient list."""
    settings = app.config.settings.digest
    digest = build_digest(app, now=now, day=day)
    day = digest.day
    if settings is None or not settings.to:
        return DigestOutcome(
            day, DigestStatus.NOT_CONFIGURED, "no digest recipients: set [digest].to"
        )
    if now < digest.end:
        # Sent (and so marked) early, the day would refuse the alerts still to come in it.
        message = (
            f"digest {day} not sent: its window is still open; it closes at "
            f"{_when(digest.end, settings.timezone)}"
        )
        return DigestOutcome(day, DigestStatus.NOT_DUE, message)
    if digest.quiet and not settings.send_when_quiet and not force:
        message = f"digest {day}: no new events; not sent ([digest].send_when_quiet = false)"
        log.info(message)
        return DigestOutcome(day, DigestStatus.QUIET, message)
    # Rendered before claiming: a rendering bug must not leave a claim that blocks the day.
    mail = build_message(
        subject=digest_subject(digest),
        sender=settings.sender,
        to=settings.to,
        text=render_text(digest),
        html=render_html(digest),
        at=now,
    )
    mailer = mailer or Mailer.from_settings(settings, app.config.secrets)
    claim = app.store.claim_digest(day, settings.to, at=now, force=force)
    if not claim.claimed:
        outcome = _not_claimed(claim.run, settings.timezone)
        log.log(
            logging.WARNING if outcome.status is DigestStatus.IN_FLIGHT else logging.INFO,
            outcome.message,
        )
        return outcome
    try:
        refused = mailer.send(mail)
    except MailError as exc:
        app.store.mark_digest_failed(day, settings.to, error=str(exc))
        log.warning("digest %s not sent: %s", day, exc)
        return DigestOutcome(
            day, DigestStatus.FAILED, f"digest {day} NOT sent: {exc}", digest.events
        )
    except Exception as exc:
        # Anything else failed before the server accepted the message: free the day for a retry.
        app.store.mark_digest_failed(day, settings.to, error=f"unexpected {type(exc).__name__}")
        raise
    app.store.mark_digest_sent(
        day, settings.to, at=now, alerts=digest.events, message_id=str(mail["Message-ID"])
    )
    accepted = len(normalise_recipients(settings.to)) - len(refused)
    text = f"digest {day} sent to {accepted} recipient(s): "
    text += digest_subject(digest)
    if refused:
        text += "; refused: " + "; ".join(f"{a} ({why})" for a, why in refused.items())
        log.warning(text)
    else:
        log.info(text)
    return DigestOutcome(
        day, DigestStatus.SENT, text, digest.events, app.store.digest_run(day, settings.to)
    )


def _at(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _when(moment: datetime, zone: str) -> str:
    return f"{_at(moment, zone)} ({moment.astimezone(UTC):%H:%M} UTC)"


def window_note(app: App, digest: Digest, now: datetime) -> str:
    """For a preview: which window it shows, and when the current one will be sent."""
    zone = digest_settings(app).timezone
    shown = f"this is the digest of {digest.day} ({digest.window} {zone})"
    if now < digest.end:
        return f"{shown}; its window is still open: it is due at {_when(digest.end, zone)}"
    later = digest_day(now, digest_settings(app).time, zone) + timedelta(days=1)
    _, due = digest_window(later, digest_settings(app).time, zone)
    return f"{shown}; alerts since then go into the digest of {later}, due at {_when(due, zone)}"


def _not_claimed(run: DigestRun, zone: str) -> DigestOutcome:
    if run.state is DigestState.SENT:
        when = _at(run.sent_at, zone) if run.sent_at else "earlier"
        message = (
            f"digest {run.day} was already sent at {when} ({run.alerts} event(s)); "
            "nothing sent (use --force to send it again)"
        )
        return DigestOutcome(run.day, DigestStatus.ALREADY_SENT, message, run=run)
    claimed = _at(run.claimed_at, zone)
    message = (
        f"digest {run.day} was claimed at {claimed} by another run that has not confirmed it: "
        "it is being sent now, or that run stopped mid-send and it may or may not have arrived; "
        "nothing sent (use --force to send it again)"
    )
    return DigestOutcome(run.day, DigestStatus.IN_FLIGHT, message, run=run)


def preview_note(app: App, day: date) -> str | None:
    """For a preview: whether `day`'s digest was already sent (or claimed) to the recipients."""
    settings = app.config.settings.digest
    if settings is None or not settings.to:
        return "no digest recipients ([digest].to): this digest would not be sent"
    run = app.store.digest_run(day, settings.to)
    if run is None:
        return None
    if run.state is DigestState.FAILED:
        return f"digest {day}: the last attempt failed ({run.error}); --send retries it"
    return _not_claimed(run, settings.timezone).message


def digest_job_for(app: App) -> Callable[[], DigestOutcome]:
    """The scheduler's daily cron job: send today's digest (a no-op once it was sent)."""
    return lambda: send_digest(app, now=app.clock())


def digest_retry_job_for(app: App) -> Callable[[], DigestOutcome | None]:
    """The housekeeping hook: resend today's digest if its last attempt failed."""
    return lambda: retry_failed_digest(app, now=app.clock())


def retry_failed_digest(
    app: App, *, now: datetime, mailer: Mailer | None = None
) -> DigestOutcome | None:
    """Send today's digest again if its last attempt failed (at most MAX_ATTEMPTS a day)."""
    settings = app.config.settings.digest
    if settings is None or not settings.to:
        return None
    day = digest_day(now, settings.time, settings.timezone)
    run = app.store.digest_run(day, settings.to)
    if run is None or run.state is not DigestState.FAILED or run.attempts >= MAX_ATTEMPTS:
        return None
    return send_digest(app, now=now, day=day, mailer=mailer)
