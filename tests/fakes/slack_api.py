"""A small fake of Slack's Web API on 127.0.0.1, for slack-sdk's real WebClient.

It accepts chat.postMessage and chat.update (validating Block Kit limits like Slack:
over-limit payloads get `invalid_blocks` with Slack's error strings,
docs/sources.md#slack-web-api), keeps the messages per channel with their metadata and ts
(updates recorded in `updates`), and answers conversations.history / conversations.replies /
conversations.list from them. Channels are known by name and id (history calls take ids
only, like Slack). It can be told how to answer next: ok, an HTTP error status, a 429 with
Retry-After, or an `{"ok": false, "error": ...}` body, for every method or for one; and it
answers `invalid_auth` to a token marked revoked, or a chosen error to one alert's posts.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HEADER_MAX, SECTION_MAX, FIELD_MAX, BLOCKS_MAX, ELEMENTS_MAX = 150, 3000, 2000, 50, 10
ACTIONS_MAX, BUTTON_TEXT_MAX = 25, 75


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(retry_after: int = 1) -> Reply:
    """Slack's 429 (examples/slack_chat_postMessage_ratelimited.http)."""
    return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})


def error(code: str, **extra: Any) -> Reply:
    """Slack's HTTP 200 `{"ok": false, "error": code}`."""
    return Reply(200, {"ok": False, "error": code, **extra})


def block_errors(blocks: Any) -> list[str]:
    """Slack's invalid_blocks messages for a blocks payload (empty when Slack accepts it)."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    problems = []
    if len(blocks) > BLOCKS_MAX:
        problems.append(f"no more than {BLOCKS_MAX} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        kind = block.get("type")
        if kind in ("header", "section") and "text" in block:
            limit = HEADER_MAX if kind == "header" else SECTION_MAX
            text = str(block["text"].get("text", ""))
            if not text:
                problems.append(f"must be more than 0 characters [json-pointer:{where}/text/text]")
            if len(text) > limit:
                problems.append(
                    f"must be less than {limit + 1} characters [json-pointer:{where}/text/text]"
                )
        for j, item in enumerate(block.get("fields") or []):
            if len(str(item.get("text", ""))) > FIELD_MAX:
                problems.append(
                    f"must be less than {FIELD_MAX + 1} characters "
                    f"[json-pointer:{where}/fields/{j}/text]"
                )
        elements = block.get("elements") or []
        if kind == "context" and len(elements) > ELEMENTS_MAX:
            problems.append(
                f"no more than {ELEMENTS_MAX} items allowed [json-pointer:{where}/elements]"
            )
        for j, element in enumerate(elements if kind == "context" else []):
            if len(str(element.get("text", ""))) > SECTION_MAX:
                problems.append(
                    f"must be less than {SECTION_MAX + 1} characters "
                    f"[json-pointer:{where}/elements/{j}/text]"
                )
        if kind == "actions":
            problems += _actions_errors(elements, where)
        if len(str(block.get("block_id", ""))) > 255:
            problems.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
    return problems


def _actions_errors(elements: list[dict[str, Any]], where: str) -> list[str]:
    """Slack's limits on an actions block: 25 elements, unique action ids, short buttons."""
    problems = []
    if not elements or len(elements) > ACTIONS_MAX:
        problems.append(f"must have 1 to {ACTIONS_MAX} items [json-pointer:{where}/elements]")
    ids = [e.get("action_id") for e in elements]
    if len(set(ids)) != len(ids):
        problems.append(f"action_id must be unique [json-pointer:{where}/elements]")
    for j, element in enumerate(elements):
        if len(str((element.get("text") or {}).get("text", ""))) > BUTTON_TEXT_MAX:
            problems.append(
                f"must be less than {BUTTON_TEXT_MAX + 1} characters "
                f"[json-pointer:{where}/elements/{j}/text/text]"
            )
        if len(str(element.get("value", ""))) > 2000:
            problems.append(
                f"must be less than 2001 characters [json-pointer:{where}/elements/{j}]"
            )
    return problems


@dataclass
class FakeSlack:
    base_url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)  # accepted postMessage payloads
    updates: list[dict[str, Any]] = field(default_factory=list)  # accepted chat.update payloads
    messages: list[dict[str, Any]] = field(default_factory=list)  # as history returns them
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)  # next answers, whatever the method
    method_replies: dict[str, deque[Reply]] = field(default_factory=dict)
    default: Reply | None = None  # answer every request this way until reset
    channels: dict[str, str] = field(default_factory=dict)  # name (with #) -> id
    channel_errors: dict[str, str] = field(default_factory=dict)  # name or id -> error code
    denied: dict[str, str] = field(default_factory=dict)  # method -> error (e.g. missing_scope)
    revoked: set[str] = field(default_factory=set)  # bot tokens answered with invalid_auth
    refused_alerts: dict[int, str] = field(default_factory=dict)  # alert id (metadata) -> error
    # method -> how many of its next calls are carried out but never answered (connection cut)
    unanswered: dict[str, int] = field(default_factory=dict)
    now: Callable[[], float] = time.time  # the clock behind message ts
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0

    def next_ts(self) -> str:
        self._seq += 1
        return f"{int(self.now())}.{self._seq:06d}"

    def fail_with_status(self, status: int) -> None:
        self.default = Reply(status=status, body={"ok": False, "error": "fatal_error"})

    def recover(self) -> None:
        self.default = None

    def reply_next(self, method: str, *replies: Reply) -> None:
        """Answer the next calls of `method` with `replies`, in order."""
        self.method_replies.setdefault(method, deque()).extend(replies)

    def channel_id(self, channel: str) -> str:
        """The id of a channel given by name or id (names are created on first use)."""
        if channel in self.channels.values():
            return channel
        name = channel if channel.startswith("#") else f"#{channel}"
        return self.channels.setdefault(name, f"C{len(self.channels) + 1:08d}")

    def posted_alert_ids(self) -> list[int]:
        """The alert id in the metadata of every accepted message, in posting order."""
        return [int(m["metadata"]["event_payload"]["alert_id"]) for m in self.messages]

    # -- the methods ---------------------------------------------------------------------------

    def answer(self, method: str, args: dict[str, Any], auth: str = "") -> Reply:
        with self.lock:
            if auth.removeprefix("Bearer ") in self.revoked:
                return error("invalid_auth")
            queued = self.method_replies.get(method)
            if queued:
                return queued.popleft()
            if self.replies:
                return self.replies.popleft()
            if self.default is not None:
                return self.default
            if method in self.denied:
                return error(self.denied[method], needed="channels:history", provided="chat:write")
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            return handler(args) if handler else error("unknown_method")

    def _chat_postMessage(self, args: dict[str, Any]) -> Reply:
        channel = str(args.get("channel") or "")
        problem = self.channel_errors.get(channel) or (
            self.channel_errors.get(self.channel_id(channel)) if channel else "channel_not_found"
        )
        if problem:
            return error(problem)
        alert_id = ((args.get("metadata") or {}).get("event_payload") or {}).get("alert_id")
        if alert_id in self.refused_alerts:
            return error(self.refused_alerts[alert_id])
        if not args.get("text") and not args.get("blocks"):
            return error("no_text")
        problems = block_errors(args["blocks"]) if "blocks" in args else []
        if problems:
            return error(
                "invalid_blocks",
                errors=problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        ts, channel_id = self.next_ts(), self.channel_id(channel)
        message = {"type": "message", "subtype": "bot_message", "bot_id": "B0TRIALWATCH", "ts": ts}
        message |= {"text": args.get("text", ""), "blocks": args.get("blocks", [])}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.posts.append(args)
        self.messages.append({**message, "channel": channel_id})
        return Reply(body={"ok": True, "channel": channel_id, "ts": ts, "message": message})

    def _chat_update(self, args: dict[str, Any]) -> Reply:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if channel not in self.channels.values():
            return error("channel_not_found")  # chat.update takes the channel's id
        stored = next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)
        if stored is None:
            return error("message_not_found")
        problems = block_errors(args["blocks"]) if "blocks" in args else []
        if problems:
            return error("invalid_blocks", errors=problems)
        stored |= {"text": args.get("text", stored["text"]), "blocks": args.get("blocks", [])}
        self.updates.append(args)
        message = {k: v for k, v in stored.items() if k not in ("channel", "metadata")}
        return Reply(
            body={
                "ok": True,
                "channel": channel,
                "ts": ts,
                "text": stored["text"],
                "message": message,
            }
        )

    def message(self, ts: str) -> dict[str, Any]:
        """The stored message with this ts (as updated since)."""
        return next(m for m in self.messages if m["ts"] == ts)

    def _visible(self, args: dict[str, Any]) -> list[dict[str, Any]] | Reply:
        channel = str(args.get("channel") or "")
        if channel not in self.channels.values():
            return error("channel_not_found")  # history calls take ids, not names
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for stored in self.messages:
            if stored["channel"] != channel or float(stored["ts"]) <= oldest:
                continue
            message = {k: v for k, v in stored.items() if k != "channel"}
            if not with_metadata:
                message.pop("metadata", None)
            found.append(message)
        return found

    def _page(self, messages: list[dict[str, Any]], args: dict[str, Any]) -> Reply:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page, rest = messages[start : start + limit], messages[start + limit :]
        body: dict[str, Any] = {"ok": True, "messages": page, "has_more": bool(rest)}
        body["response_metadata"] = {"next_cursor": str(start + limit) if rest else ""}
        return Reply(body=body)

    def _conversations_history(self, args: dict[str, Any]) -> Reply:
        found = self._visible(args)
        if isinstance(found, Reply):
            return found
        top = [m for m in found if m.get("thread_ts") in (None, m["ts"])]
        return self._page(sorted(top, key=lambda m: float(m["ts"]), reverse=True), args)

    def _conversations_replies(self, args: dict[str, Any]) -> Reply:
        found = self._visible({**args, "oldest": 0})
        if isinstance(found, Reply):
            return found
        parent, oldest = str(args.get("ts")), float(args.get("oldest") or 0)
        thread = [
            m
            for m in found
            if m["ts"] == parent or (m.get("thread_ts") == parent and float(m["ts"]) > oldest)
        ]
        if not any(m["ts"] == parent for m in thread):
            return error("thread_not_found")
        return self._page(sorted(thread, key=lambda m: float(m["ts"])), args)

    def _conversations_list(self, args: dict[str, Any]) -> Reply:
        channels = [{"id": cid, "name": name.lstrip("#")} for name, cid in self.channels.items()]
        body = {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        return Reply(body=body)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        split = urlsplit(self.path)
        args: dict[str, Any] = dict(parse_qsl(split.query))
        if "json" in self.headers.get("Content-Type", ""):
            args |= json.loads(raw)
        else:
            args |= dict(parse_qsl(raw))
        method = split.path.rsplit("/", 1)[-1]
        payload = args if "json" in self.headers.get("Content-Type", "") else {}
        with self.fake.lock:
            self.fake.requests.append((method, payload, self.headers.get("Authorization", "")))
        reply = self.fake.answer(method, args, self.headers.get("Authorization", ""))
        with self.fake.lock:
            cut = self.fake.unanswered.get(method, 0) > 0
            if cut:
                self.fake.unanswered[method] -= 1
        if cut:
            self.close_connection = True  # done, but the client hears nothing back
            return
        body = json.dumps(reply.body or {}).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client died before reading the answer (the crash tests do that)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    """Serve a FakeSlack on an ephemeral 127.0.0.1 port for the duration of the block."""
    fake = FakeSlack()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the loop to notice it, once per poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
