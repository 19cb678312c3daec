"""The FUSION record's history as the registry's history API would serve it (derived fixtures)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import respx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ctgov"
HISTORY = "https://clinicaltrials.gov/api/int"
FUSION = "NCT04768972"
# The REAL version-0 body of another record: every version body below is built from it.
_V0 = json.loads((FIXTURES / "ctgov_int_history_version_trajnovd_NCT04280705_v0.json").read_text())
# version -> (start, primary completion, completion); each (date, ACTUAL|ESTIMATED)
FUSION_DATES = {
    0: (("2021-06", "ESTIMATED"), ("2023-06", "ESTIMATED"), ("2023-12", "ESTIMATED")),
    1: (("2021-06-14", "ACTUAL"), ("2023-06", "ESTIMATED"), ("2023-12", "ESTIMATED")),
    2: (("2021-06-14", "ACTUAL"), ("2025-06", "ESTIMATED"), ("2025-12", "ESTIMATED")),
    3: (("2021-06-14", "ACTUAL"), ("2026-09", "ESTIMATED"), ("2028-12", "ESTIMATED")),
}


def history_list() -> dict[str, Any]:
    """The derived FUSION version list (4 versions)."""
    doc: dict[str, Any] = json.loads(
        (FIXTURES / "ctgov_int_history_list_NCT04768972_derived.json").read_text()
    )
    return doc


def version_body(nct: str, version: int) -> dict[str, Any]:
    """Version `version` of `nct`: the REAL v0 body with FUSION's status, dates, enrollment."""
    entry = history_list()["changes"][version]
    doc = copy.deepcopy(_V0)
    doc["studyVersion"] = version
    protocol = doc["study"]["protocolSection"]
    protocol["identificationModule"]["nctId"] = nct
    status = protocol["statusModule"]
    status["overallStatus"] = entry["status"]
    names = ("startDateStruct", "primaryCompletionDateStruct", "completionDateStruct")
    for name, (date, kind) in zip(names, FUSION_DATES[version], strict=True):
        status[name] = {"date": date, "type": kind}
    protocol["designModule"]["enrollmentInfo"] = {"count": 95, "type": "ESTIMATED"}
    return doc


class HistoryApi:
    """A respx-mounted history API: serves FUSION's versions, counts requests, can fail."""

    def __init__(self, router: respx.MockRouter, nct: str = FUSION) -> None:
        self.nct = nct
        self.versions = 4
        self.failure: httpx.Response | None = None
        self.garbage_at: int | None = None  # this version answers 200 with an HTML page
        self.requests: list[str] = []
        router.get(url__regex=rf"^{HISTORY}/studies/{nct}/history(/\d+)?$").mock(
            side_effect=self.serve
        )

    def serve(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(path.rsplit("/", 1)[-1])
        if self.failure is not None:
            return self.failure
        if path.endswith("/history"):
            listed = history_list()
            listed["changes"] = listed["changes"][: self.versions]
            return httpx.Response(200, json=listed)
        version = int(path.rsplit("/", 1)[-1])
        if version == self.garbage_at:
            return httpx.Response(200, html="<html><body>maintenance</body></html>")
        return httpx.Response(200, json=version_body(self.nct, version))
