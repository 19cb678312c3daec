"""The record-history API's shapes: the REAL recorded list and version body, and bad answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from watchers.ctgov.history import VersionEntry, parse_history_list, parse_version
from watchers.model import ParseError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ctgov"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_parse_recorded_history_list() -> None:
    entries = parse_history_list(load("ctgov_int_history_list_ollie1o1_NCT06510816.json"))
    assert [e.version for e in entries] == list(range(11))
    assert entries[0] == VersionEntry(0, "2024-07-15", "NOT_YET_RECRUITING", ())
    assert entries[9].status == "ACTIVE_NOT_RECRUITING"
    assert "Contacts/Locations" in entries[9].module_labels


def test_parse_recorded_version_body() -> None:
    entry = VersionEntry(0, "2020-02-20", "NOT_YET_RECRUITING", ())
    doc = load("ctgov_int_history_version_trajnovd_NCT04280705_v0.json")
    version = parse_version(doc, "NCT04280705", entry)
    assert version.overall_status == "NOT_YET_RECRUITING"
    assert version.start_date == "2020-03-12 (estimated)"
    assert version.primary_completion_date == "2023-04-01 (estimated)"
    assert version.completion_date == "2023-04-01 (estimated)"
    assert version.enrollment == "394 (estimated)"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not a JSON object"),
        ({"history": []}, "no 'changes' list"),
        ({"changes": [{"version": "1", "date": "2024-01-01"}]}, "no integer version"),
        ({"changes": [{"version": 1}]}, "no integer version"),
    ],
)
def test_a_malformed_history_list_is_a_parse_error(doc: Any, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_history_list(doc)


def test_a_version_body_of_another_version_or_record_is_refused() -> None:
    doc = load("ctgov_int_history_version_trajnovd_NCT04280705_v0.json")
    with pytest.raises(ParseError, match="says studyVersion 0"):
        parse_version(doc, "NCT04280705", VersionEntry(1, "2020-03-01", None, ()))
    with pytest.raises(ParseError, match="is a record of NCT04280705"):
        parse_version(doc, "NCT04768972", VersionEntry(0, "2020-02-20", None, ()))
