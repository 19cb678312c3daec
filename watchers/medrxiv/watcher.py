"""medRxiv (bioRxiv API): each day's postings, read once per cycle, filtered per topic (pure).

Format reference: docs/sources.md#medrxiv. The API has no keyword search, so every posting
of the window is read and titles and abstracts are matched here. The cursor is an absolute
offset stepped by the count returned; "no posts found" is an empty window, and an empty body
(seen during outages) is a failure.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from watchers.medrxiv.ids import SOURCE
from watchers.model import (
    FetchError,
    FieldValue,
    Observation,
    ParseError,
    SourceError,
    SourceResult,
    Topic,
    freeze_fields,
)
from watchers.net.http import Http
from watchers.net.responses import decode_json
from watchers.text.claims import detect_claim
from watchers.text.coerce import as_count, as_list, as_map, kind_name, nonblank, utc_day
from watchers.text.match import find_alias_in, find_mention
from watchers.text.window import THROUGH_KEY, window_start
from watchers.text.words import clip, collapse, is_safety_title

__all__ = ["MedrxivWatcher", "parse_details", "parse_preprint"]

DEFAULT_BASE_URL = "https://api.biorxiv.org"
_NO_POSTS = "no posts found"
# A day holds a few hundred postings: a long outage is caught up for at most a month.
_MAX_CATCH_UP = timedelta(days=30)


@dataclass(frozen=True)
class _Window:
    at: float
    found: Mapping[Topic, tuple[Observation, ...]]  # each topic's preprints, newest version
    error: SourceError | None = None


class MedrxivWatcher:
    """Reads a window of medRxiv postings once per cache period and keeps each topic's preprints.

    Each page is matched against every topic this watcher has been asked about as it arrives
    and then dropped: a long window costs one page of memory, not all of it. A topic first
    seen while the window is fresh costs one more read, matched for it alone.
    """

    source = SOURCE

    def __init__(
        self,
        http: Http,
        today: Callable[[], date],
        base_url: str = DEFAULT_BASE_URL,
        lookback_days: int = 2,
        max_pages: int = 300,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._today = today
        self._base = str(base_url).rstrip("/")
        self._lookback = timedelta(days=lookback_days)
        self._max_pages = max_pages
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._windows: dict[tuple[date, date], _Window] = {}
        self._topics: dict[str, Topic] = {}  # by name: a changed topic replaces the old one
        self._lock = threading.Lock()  # topics polled in parallel wait for one read

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The window's preprints naming the topic or its conditions; newest version per DOI."""
        today = self._today()
        since = window_start(today, self._lookback, meta, _MAX_CATCH_UP)
        observations = self._read(topic, since, today)
        return SourceResult(SOURCE, topic.name, observations, meta={THROUGH_KEY: today.isoformat()})

    def _read(self, topic: Topic, since: date, until: date) -> tuple[Observation, ...]:
        with self._lock:
            self._topics[topic.name] = topic
            now = self._clock()
            window = self._windows.get((since, until))
            if window is None or now - window.at >= self._cache_seconds:
                window = self._fresh(now, since, until, tuple(self._topics.values()), {})
            elif window.error is None and topic not in window.found:
                window = self._fresh(window.at, since, until, (topic,), window.found)
            self._windows = {(since, until): window}  # only the current window is kept
        if window.error is not None:
            raise copy.copy(window.error)  # same class and `transient`; not the shared instance
        return window.found[topic]

    def _fresh(
        self,
        at: float,
        since: date,
        until: date,
        topics: tuple[Topic, ...],
        known: Mapping[Topic, tuple[Observation, ...]],
    ) -> _Window:
        try:
            return _Window(at, {**known, **self._match(since, until, topics)})
        except SourceError as exc:
            return _Window(at, {}, error=exc)

    def _match(
        self, since: date, until: date, topics: tuple[Topic, ...]
    ) -> dict[Topic, tuple[Observation, ...]]:
        found: dict[Topic, dict[str, Observation]] = {topic: {} for topic in topics}
        for records in self._pages(since, until):
            for record in records:
                for topic in topics:
                    _keep_newest(found[topic], parse_preprint(record, topic))
        return {topic: tuple(kept[key] for key in sorted(kept)) for topic, kept in found.items()}

    def _pages(self, since: date, until: date) -> Iterator[list[Mapping[str, Any]]]:
        """Each page's records in turn; the caller holds one page at a time."""
        cursor = 0
        for _ in range(self._max_pages):
            url = f"{self._base}/details/medrxiv/{since}/{until}/{cursor}/json"
            response = self._http.get(url)
            try:
                doc = decode_json(response)
            except ParseError as exc:
                raise ParseError(f"medRxiv details: {exc}") from None
            del response  # the page's bytes: only its decoded records are needed now
            records, count, total = parse_details(doc)
            del doc
            yield records
            cursor += count
            if not records or count <= 0 or cursor >= total:
                return
        raise FetchError(
            f"medRxiv postings from {since} to {until} run past {self._max_pages} pages",
            transient=False,
        )


def _keep_newest(found: dict[str, Observation], observation: Observation | None) -> None:
    if observation is None:
        return
    held = found.get(observation.key)
    if held is None or _version(observation) > _version(held):
        found[observation.key] = observation


def parse_details(doc: Any) -> tuple[list[Mapping[str, Any]], int, int]:
    """One `/details` page: its records, the count to step the cursor by, and the total."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"medRxiv answer is not a JSON object: {kind_name(doc)}")
    messages = as_list(doc.get("messages"))
    message = as_map(messages[0]) if messages else {}
    status = nonblank(message.get("status"))
    if status is not None and status.casefold() == _NO_POSTS:
        return [], 0, 0
    if status is None or status.casefold() != "ok":
        raise FetchError(f"medRxiv answered with status {status or '(none)'!r}")
    collection = doc.get("collection")
    if not isinstance(collection, list):
        raise ParseError(f"medRxiv answer has no 'collection' list (keys: {sorted(doc)})")
    records = [as_map(item) for item in collection if as_map(item)]
    count = as_count(message.get("count"))
    total = as_count(message.get("total"))
    if count is None:
        count = len(collection)
    return records, count, total if total is not None else count


def parse_preprint(record: Mapping[str, Any], topic: Topic) -> Observation | None:
    """One posting as an Observation for `topic`, or None when it does not name the topic."""
    doi = nonblank(record.get("doi"))
    title = collapse(nonblank(record.get("title")) or "")
    if doi is None or not title:
        return None
    abstract = nonblank(record.get("abstract"))
    # The feeds' matcher: names, then trial numbers, in the title and then the abstract.
    mention = find_mention(topic, title, [abstract])
    alias = mention.name if mention is not None else None
    if alias is None and topic.conditions:
        alias = find_alias_in([title, abstract], topic.conditions)
    if alias is None:
        return None
    version = nonblank(str(record.get("version") or "")) or "1"
    claim = detect_claim(title)
    journal_doi = nonblank(record.get("published"))
    fields: dict[str, FieldValue] = {
        "version": version,
        "_authority": "literature",
        "_outlet": "medRxiv (preprint, not peer reviewed)",
        "_summary": _citation(record) or None,
        "_abstract": clip(collapse(abstract)) if abstract else None,
        "_category": nonblank(record.get("category")),
        "_journal_doi": journal_doi if journal_doi and journal_doi != "NA" else None,
        "_claim": claim.kind.value if claim else None,
        "_regulator": claim.regulator if claim else None,
        "_safety": is_safety_title(title),
    }
    return Observation(
        source=SOURCE,
        key=doi.lower(),
        topic=topic.name,
        title=title,
        url=f"https://www.medrxiv.org/content/{doi}v{version}",
        fields=freeze_fields(fields),
        published=utc_day(nonblank(record.get("date"))),
        matched_alias=alias,
    )


def _citation(record: Mapping[str, Any]) -> str:
    """`Example, A.; Sample, B. et al. Posted 2026-09-18 (version 1).`"""
    authors = [a.strip() for a in str(record.get("authors") or "").split(";") if a.strip()]
    who = "; ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")
    posted = nonblank(record.get("date"))
    when = f"Posted {posted} (version {record.get('version') or '1'})." if posted else ""
    return clip(" ".join(part for part in (who, when) if part))


def _version(observation: Observation) -> int:
    value = str(observation.fields.get("version") or "")
    return int(value) if value.isdigit() else 0
