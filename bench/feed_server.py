"""A loopback web for the benchmark: N RSS feeds and a small ClinicalTrials.gov, 50 ms each.

    python bench/feed_server.py --port 8765 --feeds 500 --hosts 1 [--latency 0.05]

Feed i lives at http://127.0.0.<1 + i % hosts>:<port>/feed/<i>.xml with an ETag and a
Last-Modified; a matching If-None-Match or If-Modified-Since gets a bodiless 304. Every
response (headers and body) goes out in one write with TCP_NODELAY, so keep-alive clients pay
no delayed-ACK stall. Control (127.0.0.1 only): GET /_stats (counts as JSON), /_reset,
/_bump/<i> (feed i gains an item), /_bump_ctgov (a new dataTimestamp). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

# One connection's coroutine, as asyncio.start_server calls it.
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

TOPIC_WORD = "ulefnersen"


class World:
    """What the server serves and what it saw."""

    def __init__(self, feeds: int, latency: float) -> None:
        self.latency = latency
        self.versions = [1] * feeds
        self.ctgov_stamp = 1
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.not_modified = 0
        self.body_bytes_304 = 0
        self.connections = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    def stats(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "body_bytes_304": self.body_bytes_304,
            "connections": self.connections,
            "peak_in_flight": self.peak_in_flight,
        }


def feed_body(index: int, version: int) -> bytes:
    items = []
    for n in range(20 + version - 1):
        word = TOPIC_WORD if n >= 20 else f"topic{n}"
        items.append(
            f"<item><title>Feed {index} story {n} about {word}</title>"
            f"<link>https://news{index}.example/story/{n}</link>"
            f"<guid>https://news{index}.example/story/{n}</guid>"
            f"<description>Story {n} of feed {index}: {word} and other news.</description>"
            f"<pubDate>{formatdate(1_700_000_000 + n * 3600, usegmt=True)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Feed {index}</title><link>https://news{index}.example/</link>"
        f"<description>bench feed</description>{''.join(items)}</channel></rss>"
    ).encode()


def study(nct: str, stamp: int) -> dict[str, object]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": f"Study {nct}"},
            "statusModule": {
                "overallStatus": "RECRUITING",
                "lastUpdatePostDateStruct": {"date": f"2026-01-{stamp % 28 + 1:02d}"},
            },
        },
        "hasResults": False,
    }


def respond(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers_lines(headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def headers_lines(headers: dict[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


def answer(world: World, target: str, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The response bytes and whether it was a 304."""
    url = urlsplit(target)
    path = url.path
    if path.startswith("/feed/") and path.endswith(".xml"):
        index = int(path[6:-4])
        version = world.versions[index]
        etag = f'"{index}-{version}"'
        modified = formatdate(1_700_000_000 + version * 60, usegmt=True)
        if headers.get("if-none-match") == etag or (
            "if-none-match" not in headers and headers.get("if-modified-since") == modified
        ):
            return respond("304 Not Modified", {"ETag": etag, "Last-Modified": modified}), True
        body = feed_body(index, version)
        meta = {"Content-Type": "application/rss+xml", "ETag": etag, "Last-Modified": modified}
        return respond("200 OK", meta, body), False
    if path == "/api/v2/version":
        stamp = f"2026-01-01T00:{world.ctgov_stamp // 60 % 60:02d}:{world.ctgov_stamp % 60:02d}"
        return json_response({"apiVersion": "2.0.5", "dataTimestamp": stamp}), False
    if path == "/api/v2/studies":
        query = parse_qs(url.query)
        ids = [i for i in query.get("filter.ids", [""])[0].split(",") if i]
        size = int(query.get("pageSize", ["10"])[0])
        studies = [study(i, world.ctgov_stamp) for i in ids[:size]]
        return json_response({"studies": studies, "totalCount": len(studies)}), False
    if path.startswith("/api/v2/studies/"):
        return json_response(study(path.rsplit("/", 1)[1], world.ctgov_stamp)), False
    return respond("404 Not Found", {"Content-Type": "text/plain"}, b"not here"), False


def json_response(doc: object) -> bytes:
    return respond("200 OK", {"Content-Type": "application/json"}, json.dumps(doc).encode())


def control(world: World, path: str) -> bytes | None:
    if path == "/_stats":
        return json_response(world.stats())
    if path == "/_reset":
        world.reset()
        return json_response({})
    if path.startswith("/_bump/"):
        world.versions[int(path[7:])] += 1
        return json_response({})
    if path == "/_bump_ctgov":
        world.ctgov_stamp += 1
        return json_response({})
    return None


async def serve_connection(
    world: World, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    counted = False
    try:
        while True:
            method, target, headers = await read_head(reader)
            if (reply := control(world, target)) is not None:
                writer.write(reply)
                await writer.drain()
                continue
            if not counted:
                world.connections += 1
                counted = True
            world.requests += 1
            world.in_flight += 1
            world.peak_in_flight = max(world.peak_in_flight, world.in_flight)
            try:
                await asyncio.sleep(world.latency)
            finally:
                world.in_flight -= 1
            reply, not_modified = answer(world, target, headers)
            if not_modified:
                world.not_modified += 1
                world.body_bytes_304 += len(reply) - len(reply.split(b"\r\n\r\n", 1)[0]) - 4
            writer.write(reply)  # headers and body in one write
            await writer.drain()
            if headers.get("connection", "").lower() == "close" or method != "GET":
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, feeds: int, hosts: int, latency: float) -> None:
    world = World(feeds, latency)
    await serve_on_loopback(lambda r, w: serve_connection(world, r, w), port, hosts)


async def read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    """One request's method, target and headers (names lower-cased); the body is not read."""
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    fields = (line.partition(":") for line in lines[1:])
    return (
        method,
        target,
        {name.strip().lower(): value.strip() for name, sep, value in fields if sep},
    )


async def serve_on_loopback(handle: Handler, port: int, hosts: int) -> None:
    """Serve `handle` on 127.0.0.1 .. 127.0.0.<hosts> at `port` until killed; says "ready"."""
    addresses = [f"127.0.0.{1 + n}" for n in range(hosts)]
    server = await asyncio.start_server(handle, host=addresses, port=port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=1, choices=range(1, 255))
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.feeds, args.hosts, args.latency))
