"""The embedded defaults' sources on loopback, from recorded fixtures, for bench/day_of_service.py.

    python bench/day_web.py --port 8766 --hosts 10 --scale 480 [--latency 0.05]

Listens on 127.0.0.1-<hosts> (one address per real host the defaults name) and answers by path
as each source's API does, with the payloads recorded in tests/fixtures/ (docs/sources.md).
The web changes as a day passes at `--scale` times real speed: every RSS feed (regulators'
and Google News) gains an item naming the first topic each simulated hour (a new ETag; a
matching If-None-Match gets a bodiless 304), and ClinicalTrials.gov's dataTimestamp moves
each simulated day. Control (127.0.0.1): GET /_stats (requests, 304s, bytes, distinct GET
URLs, as JSON), /_reset. Loopback only; 50 ms per request as bench/feed_server.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import zlib
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

try:
    from bench.feed_server import read_head, serve_on_loopback
except ModuleNotFoundError:  # run as `python bench/day_web.py`: bench/ itself is on sys.path
    from feed_server import read_head, serve_on_loopback  # type: ignore[no-redef]

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
TOPIC_WORD = "ulefnersen"
# Path pattern -> recorded payload, first match wins (paths as the embedded defaults use them).
HISTORY_VERSION = "ctgov/ctgov_int_history_version_trajnovd_NCT04280705_v0.json"
ROUTES: tuple[tuple[str, str], ...] = (
    (r"/api/int/studies/NCT\d+/history/\d+$", HISTORY_VERSION),
    (r"/api/int/studies/NCT\d+/history$", "ctgov/ctgov_int_history_list_NCT04768972_derived.json"),
    (r"/api/v2/studies/NCT\d+$", "ctgov/ctgov_study.json"),
    (r"/api/v2/studies$", "ctgov/ctgov_search_ulefnersen_page1.json"),
    (r"/drug/drugsfda\.json$", "openfda/openfda_drugsfda_qalsody.json"),
    (r"medicines_json-report_en\.json$", "ema/ema_medicines_json_report.json"),
    (r"/rss/search$", "news/google_news_rss.xml"),
    (r"/esearch\.fcgi$", "news/pubmed_esearch.json"),
    (r"/esummary\.fcgi$", "news/pubmed_esummary.json"),
    (r"/ctis-public-api/search$", "ctis/ctis_search_response_SHAPE.json"),
    (r"/ctis-public-api/retrieve/", "ctis/ctis_retrieve_trajnovd_2025-523333-26-00_reduced.json"),
    (r"/api/v1/documents\.json$", "federal_register/federal_register_documents_SHAPE.json"),
    (r"/details/medrxiv/", "medrxiv/medrxiv_details_interval_SHAPE.json"),
    (r"/en/[^/]*\.xml$", "feeds/ema_news_rss.xml"),
    (r"\.xml$", "feeds/fda_press_releases_rss.xml"),
)  # fmt: skip

# Recorded payloads of different trials, made to agree: the search names the record retrieved,
# the history version is of the trial the default topic lists.
AGREE = {
    "ctis/ctis_search_response_SHAPE.json": (b"2099-500000-00-00", b"2025-523333-26-00"),
    HISTORY_VERSION: (b"NCT04280705", b"NCT04768972"),
}  # fmt: skip


class DayWeb:
    """What the web serves at a simulated moment, and what it saw."""

    def __init__(self, scale: float, latency: float) -> None:
        self.scale, self.latency = scale, latency
        self._started = time.monotonic()
        self.payloads = {name: (FIXTURES / name).read_bytes() for _, name in ROUTES}
        for name, (old, new) in AGREE.items():
            self.payloads[name] = self.payloads[name].replace(old, new)
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()  # by host address
        self.not_modified = 0
        self.bytes_out = 0
        self.urls: set[str] = set()

    def simulated_hours(self) -> int:
        return int((time.monotonic() - self._started) * self.scale // 3600)

    def stats(self) -> dict[str, object]:
        return {
            "requests": sum(self.requests.values()),
            "by_host": dict(self.requests),
            "not_modified": self.not_modified,
            "bytes_out": self.bytes_out,
            "urls": sorted(self.urls),
        }

    def answer(self, target: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
        """Status, headers and body for one request."""
        path = urlsplit(target).path
        if path.endswith("/api/v2/version"):
            day = self.simulated_hours() // 24
            doc = {"apiVersion": "2.0.5", "dataTimestamp": f"2026-01-{day % 28 + 1:02d}T06:00:00"}
            return "200 OK", {"Content-Type": "application/json"}, json.dumps(doc).encode()
        name = next((name for pattern, name in ROUTES if re.search(pattern, path)), None)
        if name is None:
            return "404 Not Found", {"Content-Type": "text/plain"}, b"not here"
        if not name.endswith(".xml"):
            return "200 OK", {"Content-Type": "application/json"}, self.payloads[name]
        hour = self.simulated_hours()
        etag = f'"{zlib.crc32(path.encode())}-{hour}"'
        if headers.get("if-none-match") == etag:
            return "304 Not Modified", {"ETag": etag}, b""
        meta = {"Content-Type": "application/rss+xml", "ETag": etag}
        return "200 OK", meta, with_hourly_items(self.payloads[name], hour)


def with_hourly_items(feed: bytes, hours: int, keep: int = 20) -> bytes:
    """The recorded feed with one item naming the topic per simulated hour (newest `keep`)."""
    items = "".join(
        f"<item><title>{TOPIC_WORD} update {n}</title><link>https://day.example/{n}</link>"
        f"<guid>https://day.example/{n}</guid><description>Hour {n} news on {TOPIC_WORD}."
        "</description></item>"
        for n in range(hours, max(hours - keep, 0), -1)
    ).encode()
    at = feed.find(b"<item>")
    return feed[:at] + items + feed[at:] if at >= 0 else feed


async def serve(web: DayWeb, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host = writer.get_extra_info("sockname")[0]
    try:
        while True:
            method, target, headers = await read_head(reader)
            if length := int(headers.get("content-length", "0")):
                await reader.readexactly(length)  # a CTIS search body: read, not needed
            if target in ("/_stats", "/_reset"):
                if target == "/_reset":
                    web.reset()
                status, meta, body = "200 OK", {}, json.dumps(web.stats()).encode()
            else:
                web.requests[host] += 1
                if method == "GET":
                    web.urls.add(f"http://{headers.get('host', host)}{target}")
                await asyncio.sleep(web.latency)
                status, meta, body = web.answer(target, headers)
                web.not_modified += status.startswith("304")
                web.bytes_out += len(body)
            lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
            lines += [f"{k}: {v}" for k, v in meta.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, hosts: int, scale: float, latency: float) -> None:
    web = DayWeb(scale, latency)
    await serve_on_loopback(lambda r, w: serve(web, r, w), port, hosts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=12, choices=range(1, 255))
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.hosts, args.scale, args.latency))
