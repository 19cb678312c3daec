"""A small fake of Slack's Web API on 127.0.0.1, for slack-sdk's real WebClient.

It records every chat.postMessage it accepts and can be told how to answer next: ok, an HTTP
error status, a 429 with Retry-After, or an `{"ok": false, "error": ...}` body.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeSlack:
    base_url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)  # accepted messages only
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)
    default: Reply | None = None  # answer every request this way until reset
    _ts: int = 0

    def next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def fail_with_status(self, status: int) -> None:
        self.default = Reply(status=status, body={"ok": False, "error": "fatal_error"})

    def recover(self) -> None:
        self.default = None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        payload = json.loads(raw) if "json" in self.headers.get("Content-Type", "") else {}
        method = self.path.rsplit("/", 1)[-1]
        self.fake.requests.append((method, payload, self.headers.get("Authorization", "")))
        reply = self.fake.replies.popleft() if self.fake.replies else self.fake.default
        if reply is None:
            ts = self.fake.next_ts()
            if method == "chat.postMessage":
                self.fake.posts.append(payload)
            reply = Reply(
                body={"ok": True, "channel": "C1H9RESGL", "ts": ts, "message": {"ts": ts}}
            )
        body = json.dumps(reply.body or {}).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    """Serve a FakeSlack on an ephemeral 127.0.0.1 port for the duration of the block."""
    fake = FakeSlack()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
