"""ClinicalTrials.gov study fields read strictly: a re-typed value is coerced or a ParseError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchers.text.coerce import read_count, read_enum, read_map, read_text

__all__ = ["StudyPath", "dated", "enrollment", "place"]

_PLACE = ("facility", "city", "country")


class StudyPath:
    """Names a field of one study in a parse error: "ClinicalTrials.gov NCT… overallStatus"."""

    def __init__(self, nct: str) -> None:
        self.nct = nct

    def __call__(self, field: str) -> str:
        return f"ClinicalTrials.gov {self.nct} {field}"


def enrollment(info: Mapping[str, Any], at: StudyPath) -> str | None:
    """`{count: 95, type: "ESTIMATED"}` -> "95 (estimated)"; None without a count."""
    count = read_count(info.get("count"), at("enrollmentInfo.count"))
    if count is None:
        return None
    return _with_type(str(count), read_enum(info.get("type"), at("enrollmentInfo.type")))


def dated(struct: Any, where: str, *, typed: bool = True) -> str | None:
    """`{date: "2026-09", type: "ESTIMATED"}` -> "2026-09 (estimated)"; type is sometimes absent."""
    item = read_map(struct, where)
    date = read_text(item.get("date"), f"{where}.date")
    if date is None or not typed:
        return date
    return _with_type(date, read_enum(item.get("type"), f"{where}.type"))


def _with_type(value: str, kind: str | None) -> str:
    return f"{value} ({kind.lower()})" if kind else value


def place(raw: Any, at: StudyPath) -> str:
    """One site as "facility, city, country" (the parts it has)."""
    site = read_map(raw, at("locations[]"))
    parts = (read_text(site.get(name), at(f"locations[].{name}")) for name in _PLACE)
    return ", ".join(part for part in parts if part)
