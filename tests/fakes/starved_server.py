"""The service's HttpServer in a forked child whose RLIMIT_NOFILE is lowered, driven by a pipe.

The child's descriptor limit cannot affect the test process. Commands on the pipe: "fill"
opens sockets until the child is out of descriptors, "free" closes them, "accept errors"
answers the log lines about failed accepts, "stop" stops the server.
"""

from __future__ import annotations

import logging
import resource
import socket
from multiprocessing.connection import Connection

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.service.fd_budget import connection_cap
from bot.service.server import HttpServer

__all__ = ["serve_starved"]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _opens(count: int) -> str:
    """What a poll needs: `count` descriptors at once."""
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            opened.append(socket.socket())
        return "ok"
    except OSError as exc:
        return f"failed after {len(opened)}: {exc.strerror}"
    finally:
        for sock in opened:
            sock.close()


def serve_starved(pipe: Connection, soft_limit: int, reserve: int, deadline: float) -> None:
    """In the child: lower the limit, serve /healthz and /poll, obey the pipe until "stop"."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft_limit, hard))
    records = _Records()
    logging.getLogger("bot.service.server").addHandler(records)
    logging.getLogger("asyncio").addHandler(records)  # where asyncio's own report would go

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def poll(request: Request) -> Response:
        return PlainTextResponse(_opens(reserve // 2))

    app = Starlette(routes=[Route("/healthz", healthz), Route("/poll", poll)])
    server = HttpServer(
        app,
        "127.0.0.1",
        0,
        max_connections=connection_cap(reserve),
        request_deadline=deadline,
    )
    server.start()
    pipe.send((server.port, server.guard.cap))
    held: list[socket.socket] = []
    while True:
        command = pipe.recv()
        if command == "fill":
            try:
                while True:
                    held.append(socket.socket())
            except OSError:
                pipe.send(len(held))
        elif command == "free":
            for sock in held:
                sock.close()
            held.clear()
            pipe.send(None)
        elif command == "accept errors":
            pipe.send([m for m in records.messages if "accept" in m])
        elif command == "stop":
            pipe.send(server.stop(5))
            return
