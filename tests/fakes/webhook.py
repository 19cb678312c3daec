"""A webhook receiver on 127.0.0.1: records every POST by path and answers a set status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhooks:
    base: str = ""  # host:port, for Apprise URLs such as json://HOST:PORT/path
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # path -> bodies
    status: dict[str, int] = field(default_factory=dict)  # path -> HTTP status (default 200)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """The JSON bodies accepted or refused at `path`, in arrival order."""
        with self.lock:
            return list(self.received.get(path, []))


class _Handler(BaseHTTPRequestHandler):
    hooks: Webhooks

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.hooks.lock:
            self.hooks.received.setdefault(self.path, []).append(json.loads(raw or b"{}"))
            status = self.hooks.status.get(self.path, 200)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


@contextmanager
def webhooks() -> Iterator[Webhooks]:
    """Serve a Webhooks receiver on an ephemeral 127.0.0.1 port for the block."""
    hooks = Webhooks()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"hooks": hooks}))
    # shutdown() waits for the loop to notice it, once per poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    hooks.base = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
