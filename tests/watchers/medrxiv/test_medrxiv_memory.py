"""medRxiv holds one page of postings at a time, however long the window (tracemalloc)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from watchers.medrxiv.watcher import MedrxivWatcher
from watchers.model import Topic
from watchers.net.http import Http

PAGES = 60
PER_PAGE = 30
ABSTRACT = "Background: a cohort of patients followed for years. " * 200  # ~10 KB


def _page(cursor: int) -> bytes:
    """*derived* from the SHAPE page: 30 long postings, one naming ulefnersen on every page."""
    records = [
        {
            "doi": f"10.64898/2026.11.{cursor + i:05d}",
            "version": "1",
            "date": "2026-11-28",
            "title": "Ulefnersen in FUS-ALS" if i == 0 else f"Unrelated study {cursor + i}",
            "authors": "Example, A.; Sample, B.",
            "abstract": ABSTRACT + str(cursor + i),  # each one its own string
            "category": "neurology",
            "published": "NA",
            "server": "medRxiv",
        }
        for i in range(PER_PAGE)
    ]
    message = {"status": "ok", "cursor": cursor, "count": PER_PAGE, "total": str(PAGES * PER_PAGE)}
    return json.dumps({"messages": [message], "collection": records}).encode()


def _serve(request: httpx.Request) -> httpx.Response:
    assert request.url.path.startswith("/details/medrxiv/2026-11-27/2026-11-29/")
    cursor = int(request.url.path.split("/")[-2])

    # Sent as a stream, as from a socket: a response given its bytes whole would keep them
    # until the garbage collector frees it (httpx ties a streamed response in a cycle).
    def body() -> Iterator[bytes]:
        yield _page(cursor)

    return httpx.Response(200, content=body())


@pytest.fixture
def http() -> Iterator[Http]:
    # httpx's own mock transport: respx would keep every response it served, and so every page.
    with httpx.Client(transport=httpx.MockTransport(_serve)) as client:
        yield Http(client, min_interval=0.0, sleep=lambda _s: None)


def test_a_long_window_peaks_at_a_few_pages_not_all_of_them(http: Http) -> None:
    page_bytes = len(_page(0))
    watcher = MedrxivWatcher(http, lambda: date(2026, 11, 29))
    tracemalloc.start()
    try:
        result = watcher.poll(Topic("ulefnersen"), {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.observations) == PAGES  # every page was read and matched
    # All the window at once is PAGES * page_bytes (~18 MB); one page in flight, its bytes and
    # its decoded records, stays far below ten pages.
    assert peak < 10 * page_bytes, (
        f"peak {peak / 1e6:.1f} MB for pages of {page_bytes / 1e6:.2f} MB"
    )
