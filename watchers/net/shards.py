"""The shared client's connections in several small pools, each URL always in the same one.

httpcore's pool looks at every connection it holds each time a request is queued or ends, so
its CPU per request grows with the pool: at 64 polls in flight over one pool of 100
connections an unchanged N = 500 cycle spent more CPU than at 16. Pools of at most
`SHARD_SIZE` connections keep that scan short whatever `max_parallel` is; a URL hashes to one
pool, so its kept-alive connection is found again by the next poll.
"""

from __future__ import annotations

import math
import ssl
import zlib

import httpx

__all__ = ["SHARD_SIZE", "ShardedTransport"]

SHARD_SIZE = 16


class ShardedTransport(httpx.BaseTransport):
    """`limits.max_connections` over pools of at most SHARD_SIZE connections; a URL to one."""

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> None:
        total = limits.max_connections or SHARD_SIZE
        count = max(1, math.ceil(total / SHARD_SIZE))
        # Every pool keeps all its connections alive: a URL's next poll reuses its own.
        each = httpx.Limits(
            max_connections=total // count,
            max_keepalive_connections=total // count,
            keepalive_expiry=limits.keepalive_expiry,
        )
        # One TLS context for all pools: building one costs about 25 ms of CPU.
        context = httpx.create_ssl_context() if verify is True else verify
        self.pools = [httpx.HTTPTransport(limits=each, verify=context) for _ in range(count)]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the pool its URL belongs to."""
        # crc32, not hash(): the same pool in every process, and cheap on a short string.
        where = zlib.crc32(str(request.url).encode())
        return self.pools[where % len(self.pools)].handle_request(request)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()
