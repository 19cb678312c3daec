"""The shared client's connection pools stay small at any `max_parallel`, and a URL finds its
kept-alive connection again: a real keep-alive server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from watchers.net.http import Http, build_client
from watchers.net.shards import SHARD_SIZE, ShardedTransport

IN_FLIGHT = 48


@contextmanager
def keep_alive_server() -> Iterator[tuple[int, set[int]]]:
    """Answers 200 over kept-alive connections; counts them (by the client's port)."""
    peers: set[int] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                peers.add(self.client_address[1])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], peers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_many_polls_in_flight_use_small_pools_and_reuse_each_urls_connection() -> None:
    with keep_alive_server() as (port, peers), build_client(parallel=64) as client:
        http = Http(client, min_interval=0)
        urls = [f"http://127.0.0.1:{port}/feed/{n}.xml" for n in range(IN_FLIGHT)]
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            first = list(pool.map(lambda url: http.get(url).status_code, urls))
        opened = len(peers)
        with ThreadPoolExecutor(8) as pool:  # the next cycle: every URL again
            again = list(pool.map(lambda url: http.get(url).status_code, urls))
        transport = client._transport
        assert isinstance(transport, ShardedTransport)
        held = [len(shard._pool.connections) for shard in transport.pools]
    assert first == again == [200] * IN_FLIGHT
    assert len(peers) == opened  # the second round opened no connection
    assert sum(held) == opened and max(held) <= SHARD_SIZE  # no pool scans more than 16
