"""A real HTTP server on 127.0.0.1 that misbehaves on purpose: trickles, stalls, or lies.

Each connection takes the next answer from a script; the last one repeats. Answers are
functions of (socket, stop event); a stalled one waits on the event, so `stop()` ends every
handler at once and the test never waits on a misbehaving connection.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[socket.socket, threading.Event], None]

__all__ = ["Answer", "HostileServer", "hostile_server", "raw", "silent", "trickle", "trickle_head"]

_TICK = 0.05  # seconds between two trickled bytes: slow enough to outlast any test deadline


def raw(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
    """A whole, well-formed answer, then the connection is closed."""

    def answer(sock: socket.socket, stop: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return answer


def trickle(body: bytes) -> Answer:
    """Headers at once, then the body one byte per tick (never finishing before `stop`)."""

    def answer(sock: socket.socket, stop: threading.Event) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {len(body)}"
        )
        sock.sendall(f"{head}\r\n\r\n".encode())
        _drip(sock, body, stop)

    return answer


def trickle_head() -> Answer:
    """Even the status line comes one byte per tick: no read timeout ever fires."""

    def answer(sock: socket.socket, stop: threading.Event) -> None:
        _drip(sock, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 100_000, stop)

    return answer


def silent() -> Answer:
    """Accepts, reads the request, and never says a word."""

    def answer(sock: socket.socket, stop: threading.Event) -> None:
        stop.wait()

    return answer


def _drip(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    for index in range(len(data)):
        if stop.wait(_TICK):
            return
        try:
            sock.sendall(data[index : index + 1])
        except OSError:  # the client gave up: what the test wants
            return


class HostileServer:
    """The running server: its URL, the request heads it received, and its script."""

    def __init__(self, script: list[Answer]) -> None:
        self.script = list(script)
        self.requests: list[str] = []
        self.stop = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                owner.requests.append(_read_head(sock))
                answer = owner.script.pop(0) if len(owner.script) > 1 else owner.script[0]
                answer(sock, owner.stop)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"
        # shutdown() waits for the loop to notice it, once per poll interval (0.5 s by default)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def headers_of(self, index: int) -> dict[str, str]:
        """The lower-cased header names and values of request `index`."""
        lines = self.requests[index].split("\r\n")[1:]
        pairs = (line.partition(":") for line in lines if ":" in line)
        return {name.strip().lower(): value.strip() for name, _, value in pairs}


def _read_head(sock: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


@contextmanager
def hostile_server(script: list[Answer]) -> Iterator[HostileServer]:
    """Serve `script` on 127.0.0.1 for the block; stop every handler afterwards."""
    server = HostileServer(script)
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.server.shutdown()
        server.server.server_close()
