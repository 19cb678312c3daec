"""ClinicalTrials.gov record history (the website's undocumented `/api/int`): fetch (I/O) + parse.

Best effort: the API is unversioned and may change or vanish, so every shape is checked before
it is trusted (docs/sources.md#clinicaltrialsgov-record-history).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from watchers.ctgov.fields import StudyPath
from watchers.ctgov.ids import HISTORY_URL
from watchers.ctgov.protocol import protocol_fields
from watchers.model import FieldValue, ParseError, RegistryVersion
from watchers.net.http import Http
from watchers.text.coerce import as_map, kind_name, nonblank, nonblanks
from watchers.text.trial_ids import nct_id

__all__ = [
    "DEFAULT_HISTORY_URL",
    "HistoryClient",
    "RegistryVersion",
    "VersionEntry",
    "parse_history_list",
    "parse_version",
]

DEFAULT_HISTORY_URL = HISTORY_URL


@dataclass(frozen=True)
class VersionEntry:
    """One `changes[]` entry of the history list."""

    version: int
    date: str  # the sponsor's QC/submit date of this version, YYYY-MM-DD
    status: str | None
    module_labels: tuple[str, ...]


class HistoryClient:
    """Reads a record's version list and single versions; pure parsing below."""

    def __init__(self, http: Http, base_url: str = DEFAULT_HISTORY_URL) -> None:
        self._http = http
        self._base = str(base_url).rstrip("/")

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request of this thread inside the block shares one budget (`Http.deadline`)."""
        with self._http.deadline(seconds):
            yield

    def versions(self, nct: str, max_listed: int | None = None) -> list[VersionEntry]:
        """The record's versions, oldest first (FetchError / ParseError on failure).

        `max_listed`: a list longer than this is refused (ParseError), not walked.
        """
        _, doc = self._http.get_json(f"{self._base}/studies/{nct}/history")
        entries = parse_history_list(doc)
        if max_listed is not None and len(entries) > max_listed:
            raise ParseError(
                f"history list of {nct} has {len(entries)} versions, more than the "
                f"{max_listed} we read"
            )
        return entries

    def version(self, nct: str, entry: VersionEntry) -> RegistryVersion:
        """One version's body, reduced to what the timeline needs."""
        _, doc = self._http.get_json(f"{self._base}/studies/{nct}/history/{entry.version}")
        return parse_version(doc, nct, entry)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_history_list(doc: Any) -> list[VersionEntry]:
    """`{changes: [{version, date, status, moduleLabels}, ...]}` -> entries sorted by version."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"history list is not a JSON object: {kind_name(doc)}")
    changes = doc.get("changes")
    if not isinstance(changes, list):
        raise ParseError(f"history list has no 'changes' list (keys: {sorted(doc)})")
    entries: dict[int, VersionEntry] = {}
    for index, raw in enumerate(changes):
        item = as_map(raw)
        version, date = _int(item.get("version")), nonblank(item.get("date"))
        if version is None or version < 0 or date is None:
            raise ParseError(f"history change {index} has no integer version and date")
        entries[version] = VersionEntry(
            version=version,
            date=date.strip(),
            status=nonblank(item.get("status")),
            module_labels=tuple(nonblanks(item.get("moduleLabels"))),
        )
    return [entries[v] for v in sorted(entries)]


def _date(struct: Any) -> str | None:
    item = as_map(struct)
    date, kind = nonblank(item.get("date")), nonblank(item.get("type"))
    if date is None:
        return None
    return f"{date.strip()} ({kind.lower()})" if kind else date.strip()


# Long free text stays out of the history: version bodies hold it as HTML, not v2 markdown.
_NOT_KEPT = frozenset({"eligibility_criteria"})


def _unescaped(value: FieldValue) -> FieldValue:
    # Version bodies escape text as HTML entities (docs/sources.md#clinicaltrialsgov-history).
    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, tuple):
        return tuple(html.unescape(item) for item in value)
    return value


def _protocol(protocol: Mapping[str, Any], nct: str) -> dict[str, FieldValue]:
    """The version's protocol fields as a live poll reads them; {} when a module is malformed."""
    try:
        fields = protocol_fields(protocol, StudyPath(nct))
    except ParseError:
        return {}
    return {name: _unescaped(value) for name, value in fields.items() if name not in _NOT_KEPT}


def parse_version(doc: Any, nct: str, entry: VersionEntry) -> RegistryVersion:
    """`{studyVersion, study: {protocolSection}}` -> a RegistryVersion; the shape is checked."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"history version of {nct} is not a JSON object: {kind_name(doc)}")
    if _int(doc.get("studyVersion")) != entry.version:
        raise ParseError(
            f"history version {entry.version} of {nct} says studyVersion "
            f"{doc.get('studyVersion')!r}"
        )
    protocol = as_map(as_map(doc.get("study")).get("protocolSection"))
    found = nct_id(str(as_map(protocol.get("identificationModule")).get("nctId") or ""))
    if found != nct:
        raise ParseError(f"history version {entry.version} of {nct} is a record of {found}")
    status = as_map(protocol.get("statusModule"))
    enrollment = as_map(as_map(protocol.get("designModule")).get("enrollmentInfo"))
    count = _int(enrollment.get("count"))
    kind = nonblank(enrollment.get("type"))
    return RegistryVersion(
        nct=nct,
        version=entry.version,
        date=entry.date,
        overall_status=nonblank(status.get("overallStatus")) or entry.status,
        start_date=_date(status.get("startDateStruct")),
        primary_completion_date=_date(status.get("primaryCompletionDateStruct")),
        completion_date=_date(status.get("completionDateStruct")),
        enrollment=None if count is None else f"{count} ({kind.lower()})" if kind else str(count),
        module_labels=entry.module_labels,
        protocol=_protocol(protocol, nct),
    )
