"""EMA medicines data: the bulk JSON report, fetched once per cycle and filtered per topic.

Format reference: shared/formats/SOURCES.md section 3, "Downloadable data".
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchers.coerce import nonblank
from watchers.http import Http, decode_json
from watchers.match import find_alias_in
from watchers.model import (
    FieldValue,
    Observation,
    ParseError,
    SourceError,
    SourceResult,
    Topic,
    freeze_fields,
)

__all__ = [
    "DEFAULT_URL",
    "SOURCE",
    "EmaMedicinesWatcher",
    "parse_document",
    "parse_record",
]

SOURCE = "ema_medicines"
DEFAULT_URL = (
    "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines_json-report_en.json"
)
# A record without its own page still needs a link a person can follow.
_FALLBACK_URL = "https://www.ema.europa.eu/en/medicines/download-medicine-data"
# Poll meta key: the topic's names when its snapshot was taken (see EmaMedicinesWatcher.poll).
_NAMES_KEY = "topic_names"
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class _Fetched:
    """One read of the report: when, its validators, its records (None after a bare 304)."""

    at: float
    validators: Mapping[str, str]
    records: Sequence[Mapping[str, Any]] | None = None
    error: SourceError | None = None


class EmaMedicinesWatcher:
    """Reads EMA's medicines report once per cycle for every topic; keeps the topic's medicines."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        url: str = DEFAULT_URL,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = str(url)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, _Fetched] = {}
        self._lock = threading.Lock()

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The topic's human medicines in the report; unchanged when the report has not changed."""
        names = "\n".join(topic.names)
        validators = {k: v for k, v in meta.items() if k in _validator_keys(self._url)}
        if meta.get(_NAMES_KEY) != names:
            # The topic's names changed since its snapshot: an unchanged report can still hold
            # medicines it did not match before, so read the report rather than trust a 304.
            validators = {}
        with self._lock:  # one request serves every topic polled while the cache is fresh
            fetched = self._fetch(validators)
        if fetched.error is not None:
            raise fetched.error
        kept = {**fetched.validators, _NAMES_KEY: names}
        if fetched.records is None or (validators and fetched.validators == validators):
            return SourceResult(SOURCE, topic.name, unchanged=True, meta=kept)
        found: dict[str, Observation] = {}
        for record in fetched.records:
            observation = parse_record(record, topic)
            if observation is not None:
                found.setdefault(observation.key, observation)
        observations = tuple(found[key] for key in sorted(found))
        return SourceResult(SOURCE, topic.name, observations, meta=kept)

    def _fetch(self, validators: Mapping[str, str]) -> _Fetched:
        """The cached read when fresh and usable for these validators, else a conditional GET."""
        now = self._clock()
        cached = self._cache.get(self._url)
        if cached is not None and now - cached.at < self._cache_seconds:
            # A bare 304 only tells topics holding the same validators that nothing changed.
            if cached.records is not None or cached.error is not None:
                return cached
            if dict(cached.validators) == dict(validators):
                return cached
        try:
            answer = self._http.get_conditional(self._url, validators)
            if answer.response is None:
                same = cached is not None and dict(cached.validators) == answer.meta
                records = cached.records if same and cached is not None else None
                fetched = _Fetched(now, answer.meta, records)
            else:
                records = parse_document(decode_json(answer.response))
                fetched = _Fetched(now, answer.meta, records)
        except SourceError as exc:
            # Remembered too, so N topics failing on one broken report cost one request.
            fetched = _Fetched(now, {}, None, error=exc)
        self._cache[self._url] = fetched
        return fetched


def parse_document(doc: Any) -> list[Mapping[str, Any]]:
    """The records of the report: `{meta, data: [...]}` or, as older consumers saw, a bare list."""
    if isinstance(doc, Mapping):
        data = doc.get("data")
        if not isinstance(data, list):
            raise ParseError(f"EMA medicines report has no 'data' list (keys: {sorted(doc)})")
    elif isinstance(doc, list):
        data = doc
    else:
        raise ParseError(f"EMA medicines report is not a JSON object or list: {type(doc).__name__}")
    records = [record for record in data if isinstance(record, Mapping)]
    if not records:
        # The live report lists about 2,700 medicines (SOURCES.md 3); none means a broken export.
        raise ParseError("EMA medicines report lists no medicines")
    return records


def parse_record(record: Mapping[str, Any], topic: Topic) -> Observation | None:
    """One human medicine as an Observation, or None when it is not the topic's (or not human)."""
    category = nonblank(record.get("category"))
    if category is None or category.casefold() != "human":
        return None
    inn = nonblank(record.get("international_non_proprietary_name_common_name"))
    substance = nonblank(record.get("active_substance"))
    name = nonblank(record.get("name_of_medicine"))
    alias = find_alias_in([inn, substance, name], topic.names)
    # ema_product_number arrived in Oct 2025 (SOURCES.md 3); older exports key on the name.
    key = nonblank(record.get("ema_product_number")) or name
    if alias is None or key is None:
        return None
    fields: dict[str, FieldValue] = {"medicine_status": nonblank(record.get("medicine_status"))}
    if "opinion_status" in record:
        fields["opinion_status"] = nonblank(record.get("opinion_status"))
    for date_field in (
        "opinion_adopted_date",
        "european_commission_decision_date",
        "marketing_authorisation_date",
    ):
        fields[date_field] = _iso_date(nonblank(record.get(date_field)))
    fields.update(
        {
            "_inn": inn,
            "_active_substance": substance,
            "_holder": nonblank(record.get("marketing_authorisation_developer_applicant_holder")),
            "_orphan": nonblank(record.get("orphan_medicine")),
            "_conditional_approval": nonblank(record.get("conditional_approval")),
            "_category": category,
            "_last_updated": _iso_date(nonblank(record.get("last_updated_date"))),
        }
    )
    return Observation(
        source=SOURCE,
        key=key,
        topic=topic.name,
        title=_title(name, inn) or key,
        url=nonblank(record.get("medicine_url")) or _FALLBACK_URL,
        fields=freeze_fields(fields),
        published=_moment(nonblank(record.get("first_published_date"))),
        matched_alias=alias,
    )


def _title(name: str | None, inn: str | None) -> str | None:
    """`Qalsody (tofersen)`; the INN alone when it is the medicine's name."""
    if name and inn and name.casefold() != inn.casefold():
        return f"{name} ({inn})"
    return name or inn


def _iso_date(value: str | None) -> str | None:
    """`29/05/2024` -> `2024-05-29`; an unparseable date is kept as it came, not dropped."""
    moment = _moment(value)
    return moment.date().isoformat() if moment else value


def _moment(value: str | None) -> datetime | None:
    """A `DD/MM/YYYY` date (SOURCES.md 3) as midnight UTC, or None."""
    match = _DMY.fullmatch(value) if value else None
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _validator_keys(url: str) -> tuple[str, str]:
    """The poll-meta keys Http.get_conditional keeps a URL's ETag and Last-Modified under."""
    return f"etag {url}", f"last-modified {url}"
