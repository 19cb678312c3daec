"""A `check` whose feeds all answer 304 loads no feed parser, no diff and no history import:
a real feed server on 127.0.0.1, the CLI in a fresh process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.bot.test_fast_start import config_for, loaded, run_cli

FEED = Path(__file__).parents[1] / "fixtures/feeds/fda_press_releases_ulefnersen_derived.xml"
ETAG = '"v1"'
# What only a poll that brought items needs.
NOT_FOR_304S = (
    "feedparser",
    "watchers.text.feedparse",
    "watchers.text.claims",
    "state.poll.diff",
    "state.poll.enrich",
    "state.poll.load",
    "bot.polling.history_import",
)


@contextmanager
def feed_server() -> Iterator[int]:
    """One feed with an ETag; 304 when asked with it."""
    body = FEED.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", ETAG)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_check_of_unchanged_feeds_loads_no_parser_diff_or_history_import(
    tmp_path: Path, sqlite_url: str
) -> None:
    with feed_server() as port:
        feed = '[http]\nmin_interval = 0\n[[sources.feeds]]\nname = "fda"\nauthority = "FDA"\n'
        feed += f'url = "http://127.0.0.1:{port}/press-releases.xml"\n'
        config = config_for(tmp_path, sqlite_url, feed)
        first_code, _, first = run_cli("check", "--config", config)
        code, output, modules = run_cli("check", "--config", config)
    assert first_code == code == 0
    assert "feedparser" in first  # the first read parsed the feed
    assert "unchanged fda" in output and "1 ok, 0 failed" in output
    assert loaded(modules, NOT_FOR_304S) == []
