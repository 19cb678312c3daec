"""EU CTIS, the Federal Register, SEC full-text search and medRxiv served from 127.0.0.1.

One threaded HTTP server answers the four APIs under their own path prefixes with what the
test put in `OfficialSources` (bodies built from the fixtures), counts requests per source,
and can be told to misbehave per source: `html` (the web app's page with status 200) or
`block` (SEC's undeclared-tool page with 403).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["OfficialSources", "official_sources"]

HTML_PAGE = b"<!DOCTYPE html><html><head><title>App</title></head><body>app</body></html>"
SEC_BLOCK = (
    b"<html><head><title>SEC.gov | Your Request Originates from an Undeclared Automated Tool"
    b"</title></head><body><h1>Your Request Originates from an Undeclared Automated Tool</h1>"
    b"</body></html>"
)


@dataclass
class OfficialSources:
    """What each fake source holds now; tests change it between runs."""

    port: int = 0
    ctis_rows: list[dict[str, Any]] = field(default_factory=list)
    ctis_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    fr_documents: list[dict[str, Any]] = field(default_factory=list)  # named by a term
    fr_notices: list[dict[str, Any]] = field(default_factory=list)  # FDA meeting notices
    sec_hits: list[dict[str, Any]] = field(default_factory=list)
    medrxiv_records: list[dict[str, Any]] = field(default_factory=list)
    misbehave: dict[str, str] = field(default_factory=dict)  # source -> "html" | "block"
    requests: Counter[str] = field(default_factory=Counter)
    user_agents: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sec_base(self) -> str:
        """The same server under another host name, as SEC has its own host in real life."""
        # SEC's watcher paces its host at 8 requests a second: shared, it would pace all four.
        return f"http://localhost:{self.port}"

    def answer(self, method: str, path: str, query: list[tuple[str, str]], body: bytes) -> Any:
        """(status, content type, bytes) for one request."""
        source = _source_of(path)
        with self.lock:
            self.requests[source] += 1
            mode = self.misbehave.get(source)
        if mode == "html":
            return 200, "text/html; charset=utf-8", HTML_PAGE
        if mode == "block":
            return 403, "text/html", SEC_BLOCK
        params = dict(query)
        if source == "ctis" and method == "POST" and path.endswith("/search"):
            criteria = json.loads(body)["searchCriteria"]
            rows = self.ctis_rows if "containAll" in criteria else []
            return _json({"pagination": {"currentPage": 1, "totalPages": 1}, "data": rows})
        if source == "ctis" and path.startswith("/ctis-public-api/retrieve/"):
            record = self.ctis_records.get(path.rsplit("/", 1)[1])
            return _json(record) if record else (404, "application/json", b"{}")
        if source == "federal_register":
            if params.get("conditions[agencies][]") == "food-and-drug-administration":
                docs = self.fr_notices
            elif params.get("conditions[term]") == '"ulefnersen"':
                docs = self.fr_documents
            else:
                docs = []
            if not docs:
                return _json({"description": "Documents matching", "count": 0})
            return _json({"count": len(docs), "total_pages": 1, "results": docs})
        if source == "sec_edgar":
            hits = self.sec_hits if params.get("q") == '"ulefnersen"' else []
            return _json({"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}})
        if source == "medrxiv":
            records = self.medrxiv_records
            if not records:
                return _json({"messages": [{"status": "no posts found"}], "collection": []})
            message = {
                "status": "ok",
                "cursor": 0,
                "count": len(records),
                "total": str(len(records)),
            }
            return _json({"messages": [message], "collection": records})
        return 404, "text/plain", b"not found"


def _source_of(path: str) -> str:
    if path.startswith("/ctis-public-api/"):
        return "ctis"
    if path.startswith("/api/v1/"):
        return "federal_register"
    if path.startswith("/LATEST/"):
        return "sec_edgar"
    if path.startswith("/details/medrxiv/"):
        return "medrxiv"
    return "other"


def _json(doc: Any) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(doc).encode()


@contextmanager
def official_sources() -> Iterator[OfficialSources]:
    """Serve the four sources on a free port of 127.0.0.1 for the duration of the block."""
    state = OfficialSources()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.user_agents[_source_of(parts.path)] = self.headers.get("user-agent", "")
            status, ctype, content = state.answer(method, parts.path, parse_qsl(parts.query), body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            del format, args  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    # shutdown() waits for the loop to notice it, once per poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
