"""POST /slack/actions: clicks on the alerts' buttons (Slack's interactivity request URL).

Signed and time-checked exactly like /slack/commands; the click is recorded within the same
answer budget and the message is updated (chat.update) only after Slack has its 200, so a slow
Slack API never makes the click time out. Anything we will not act on (a bad payload, an
unknown action, a message this bot did not post) is a 400 with one log line, never a 500.
"""

from __future__ import annotations

import logging
import threading

import anyio
import anyio.to_thread
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.service.server import ANSWER_BUDGET
from bot.slack.signed_requests import refused, signed_body
from bot.slack.triage.actions import ClickHandler, Recorded
from bot.slack.triage.clicks import BadClick, Click, parse_form

__all__ = ["actions_route"]

log = logging.getLogger(__name__)

UNSIGNED = "Slack buttons are disabled: SLACK_SIGNING_SECRET is not set.\n"
NO_SLACK = "Slack buttons are disabled: SLACK_BOT_TOKEN is not set.\n"


def _id(click: Click) -> tuple[str, str]:
    return click.user_id, click.action_ts


async def _record(clicks: ClickHandler, click: Click, budget: float) -> Recorded | None:
    """The click recorded within `budget`; None when it is still being recorded: Slack gets
    its answer now, and the worker updates the message itself once the row is stored."""
    lock, done = threading.Lock(), []
    late = False

    def record() -> Recorded:
        try:
            recorded = clicks.record(click)
        except Exception as exc:
            with lock:
                answered_without_it = late
            if answered_without_it and not isinstance(exc, BadClick):  # else nobody would know
                log.exception("slack click id=%s:%s answered but not recorded", *_id(click))
            raise
        with lock:
            answered_without_it = late
            done.append(recorded)
        if answered_without_it:
            clicks.update(recorded)
        return recorded

    try:
        with anyio.fail_after(budget):
            return await anyio.to_thread.run_sync(record, abandon_on_cancel=True)
    except TimeoutError:
        with lock:
            late = True
            return done[0] if done else None  # finished just as time ran out


def actions_route(
    *,
    signing_secret: str | None,
    clicks: ClickHandler | None,
    clock: Clock | None = None,
    answer_budget: float = ANSWER_BUDGET,
) -> Route:
    """The /slack/actions route over `clicks` (None when Slack is not configured)."""
    verifier = SignatureVerifier(signing_secret, clock or Clock()) if signing_secret else None

    async def slack_actions(request: Request) -> Response:
        if verifier is None or clicks is None:
            text = UNSIGNED if verifier is None else NO_SLACK
            log.warning("slack action rejected status=503 reason=%s", text.strip())
            return PlainTextResponse(text, status_code=503)
        body = await signed_body(request, verifier, what="slack action", log=log)
        if isinstance(body, Response):
            return body
        try:
            recorded = await _record(clicks, parse_form(body), answer_budget)
        except BadClick as exc:
            return refused(request, 400, str(exc), what="slack action", log=log)
        except Exception:
            log.exception("slack action could not be recorded")
            return PlainTextResponse("trialwatch could not record it; try again\n", 503)
        if recorded is None:  # still recording: it updates the message itself when done
            log.warning("slack action still being recorded after %.1f s", answer_budget)
            return Response(status_code=200)
        return Response(status_code=200, background=BackgroundTask(clicks.update, recorded))

    return Route("/slack/actions", slack_actions, methods=["POST"])
