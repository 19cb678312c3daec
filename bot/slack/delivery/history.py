"""Did an earlier attempt post this alert? Look for its metadata in the channel's history.

Slack has no idempotency key for chat.postMessage, so every alert is posted with metadata
naming its id, and a delivery whose last attempt ended without an answer (a crash, a timeout)
is first looked up with conversations.history (or conversations.replies for a thread reply).
Needs the `channels:history` / `groups:history` scopes; resolving a channel name that was
never posted to also needs `channels:read` / `groups:read`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.slack.delivery.client import SLACK_FAILURES, classify_failure

__all__ = [
    "ALERT_EVENT_TYPE",
    "HistoryUnavailable",
    "alert_metadata",
    "find_posted",
    "resolve_channel",
]

ALERT_EVENT_TYPE = "trialwatch_alert"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_MAX_PAGES = 20


class HistoryUnavailable(Exception):
    """The history could not be checked; the caller posts again (at-least-once)."""


def alert_metadata(alert_id: int, delivery_id: int | None) -> dict[str, Any]:
    """The message metadata that lets a later check recognise this alert's post."""
    payload = {"alert_id": alert_id, "delivery_id": delivery_id}
    return {"event_type": ALERT_EVENT_TYPE, "event_payload": payload}


def _carries(message: dict[str, Any], alert_id: int) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == ALERT_EVENT_TYPE and str(payload.get("alert_id")) == str(
        alert_id
    )


def resolve_channel(client: WebClient, channel: str, known_id: str | None) -> str:
    """Slack's id for `channel` (history calls take ids, not names)."""
    if _CHANNEL_ID.fullmatch(channel):
        return channel
    if known_id:
        return known_id
    name, cursor = channel.lstrip("#"), None
    for _ in range(_MAX_PAGES):
        response = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        for found in response.get("channels") or []:
            if found.get("name") == name:
                return str(found["id"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    raise HistoryUnavailable(f"no channel named {channel} is visible to the bot")


def find_posted(
    client: WebClient,
    *,
    channel_id: str,
    alert_id: int,
    since: datetime,
    thread_ts: str | None = None,
) -> str | None:
    """The ts of a message posted since `since` that carries `alert_id`, else None."""
    oldest, cursor = f"{since.timestamp():.6f}", None
    for _ in range(_MAX_PAGES):
        if thread_ts:
            response = client.conversations_replies(
                channel=channel_id,
                ts=thread_ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
        else:
            response = client.conversations_history(
                channel=channel_id,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
        for message in response.get("messages") or []:
            if _carries(message, alert_id):
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    raise HistoryUnavailable("too many messages since the attempt to check them all")


def look_for_post(
    client: WebClient,
    *,
    channel: str,
    known_id: str | None,
    alert_id: int,
    since: datetime,
    thread_ts: str | None = None,
) -> tuple[str, str] | None:
    """(ts, channel id) of `alert_id`'s message since `since`, else None; HistoryUnavailable."""
    try:
        channel_id = resolve_channel(client, channel, known_id)
        ts = find_posted(
            client, channel_id=channel_id, alert_id=alert_id, since=since, thread_ts=thread_ts
        )
    except SLACK_FAILURES as exc:
        raise HistoryUnavailable(classify_failure(exc).error) from exc
    return (ts, channel_id) if ts else None
