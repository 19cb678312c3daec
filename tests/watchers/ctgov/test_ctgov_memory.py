"""A big ClinicalTrials.gov search is read one study at a time: its memory stays bounded."""

from __future__ import annotations

import copy
import json
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from watchers.ctgov.pages import PageReader
from watchers.ctgov.watcher import FIELDS, ClinicalTrialsWatcher
from watchers.model import ParseError, Topic
from watchers.net.http import Http

FIXTURE = (
    Path(__file__).parents[2] / "fixtures" / "ctgov" / "ctgov_full_study_aact_NCT06171568.json"
)
BASE = "https://clinicaltrials.gov/api/v2"
TOPIC = Topic("bench-drug")
ASKED = [name[0].lower() + name[1:] for name in FIELDS.split("|") if name.endswith("Module")]


def _study(template: dict[str, Any], index: int) -> dict[str, Any]:
    """The real recorded study under its own id and title, cut to the modules we ask for."""
    protocol = {name: template[name] for name in ASKED if name in template}
    ident = copy.deepcopy(template["identificationModule"])
    ident["nctId"] = f"NCT9{index:07d}"
    ident["briefTitle"] = f"{ident['briefTitle']} ({index})"
    protocol["identificationModule"] = ident
    return {"protocolSection": protocol, "hasResults": False}


def _pages(studies: int, size: int) -> list[bytes]:
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))["protocolSection"]
    pages = []
    for start in range(0, studies, size):
        doc: dict[str, Any] = {"studies": [_study(template, i) for i in range(start, start + size)]}
        if start + size < studies:
            doc["nextPageToken"] = str(start + size)
        pages.append(json.dumps(doc).encode())
    return pages


@pytest.fixture
def watcher() -> Iterator[ClinicalTrialsWatcher]:
    with httpx.Client() as client:
        yield ClinicalTrialsWatcher(
            Http(client, min_interval=0.0), base_url=BASE, page_size=250, version_probe=False
        )


def _measured_poll(watcher: ClinicalTrialsWatcher) -> tuple[int, int, int]:
    """Poll 3 pages of 250 real studies under tracemalloc: (memory kept, peak over what is
    kept, the largest page's size), in bytes."""
    pages = _pages(750, 250)
    by_token = {"": pages[0], "250": pages[1], "500": pages[2]}
    with respx.mock() as mock:
        mock.get(f"{BASE}/studies").mock(
            side_effect=lambda request: httpx.Response(
                200, content=by_token[request.url.params.get("pageToken", "")]
            )
        )
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            result = watcher.poll(TOPIC, {})
            kept, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(result.observations) == 750
    return kept - before, peak - kept, max(map(len, pages))


def test_a_search_never_holds_a_decoded_page(watcher: ClinicalTrialsWatcher) -> None:
    """Beyond the Observations it keeps, a poll needs less than 2.5 times one page's raw JSON
    (decoding each page whole, it needed ~3.9 times)."""
    _, transient, page = _measured_poll(watcher)
    assert transient < 2.5 * page, f"{transient / 1e6:.1f} MB for pages of {page / 1e6:.1f} MB"


def test_a_search_keeps_each_repeated_value_once(watcher: ClinicalTrialsWatcher) -> None:
    """Studies that share a sponsor, dates, outcomes, criteria or sites keep one copy of each:
    here (one real study under 750 ids) an Observation costs under 2.5 KB (it was ~3.7 KB)."""
    kept, _, _ = _measured_poll(watcher)
    assert kept / 750 < 2500, f"{kept / 750:.0f} bytes per Observation"


def _read(body: bytes) -> tuple[list[Any], str | None]:
    request = httpx.Request("GET", f"{BASE}/studies")
    headers = {"Content-Type": "application/json"}
    reader = PageReader(httpx.Response(200, content=body, headers=headers, request=request))
    return list(reader.studies()), reader.token


def _one(nct: str) -> dict[str, Any]:
    return {"protocolSection": {"identificationModule": {"nctId": nct}}}


@pytest.mark.parametrize("token_first", [False, True])
def test_a_page_read_a_study_at_a_time_gives_every_study_and_the_token(token_first: bool) -> None:
    doc: dict[str, Any] = {"studies": [_one("NCT1"), _one("NCT2")], "totalCount": 2}
    doc = {"nextPageToken": "abc", **doc} if token_first else {**doc, "nextPageToken": "abc"}
    assert _read(json.dumps(doc, indent=2).encode()) == ([_one("NCT1"), _one("NCT2")], "abc")
    assert _read(b' { "studies" : [ ] } ') == ([], None)


BROKEN = {
    "html": (b"<html>Just a moment...</html>", "expected JSON"),
    "not an object": (b"[]", "not a JSON object: list"),
    "no studies": (b'{"totalCount": 3}', "no 'studies' list (keys: ['totalCount'])"),
    "studies not a list": (b'{"studies": {"NCT1": {}}}', "no 'studies' list"),
    "study not an object": (b'{"studies": ["NCT1"]}', "search result 0 is not a JSON object"),
    "cut short": (b'{"studies": [{"protocolSection": {}}, {"prot', "does not parse"),
    "trailing comma": (b'{"studies": [{"a": 1},]}', "expected JSON"),
    "data after": (b'{"studies": []} {}', "expected JSON"),
}


@pytest.mark.parametrize(("body", "says"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_page_is_the_parse_error_a_whole_decode_gives(body: bytes, says: str) -> None:
    with pytest.raises(ParseError, match=re.escape(says)):
        _read(body)
