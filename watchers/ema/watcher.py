"""EMA medicines data: the bulk JSON report, fetched once per cycle and filtered per topic.

Format reference: docs/sources.md#ema-medicines-report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from watchers.ema.ids import SOURCE
from watchers.model import (
    FieldValue,
    Observation,
    ParseError,
    SourceResult,
    Topic,
    freeze_fields,
)
from watchers.net.http import Http
from watchers.net.responses import decode_json
from watchers.net.shared_fetch import SharedFetch
from watchers.net.terms import held_validators, terms_digest
from watchers.text.coerce import day_first, nonblank
from watchers.text.match import find_alias_in

__all__ = ["DEFAULT_URL", "EmaMedicinesWatcher", "parse_document", "parse_record"]

DEFAULT_URL = (
    "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines_json-report_en.json"
)
# A record without its own page still needs a link a person can follow.
_FALLBACK_URL = "https://www.ema.europa.eu/en/medicines/download-medicine-data"
# Poll meta key: the topic's names when its snapshot was taken (see EmaMedicinesWatcher.poll).
_NAMES_KEY = "topic_names"


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
        self._url = str(url)
        self._shared = SharedFetch(
            http,
            self._url,
            lambda response: parse_document(decode_json(response)),
            cache_seconds=cache_seconds,
            clock=clock,
        )

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The topic's human medicines in the report; unchanged when the report has not changed."""
        names = terms_digest(topic.names)
        # The topic's names changed since its snapshot: an unchanged report can still hold
        # medicines it did not match before, so read the report rather than trust a 304.
        held = held_validators(meta, self._url, _NAMES_KEY, names)
        read = self._shared.read(held)
        kept = {**read.meta, _NAMES_KEY: names}
        if read.parsed is None:
            return SourceResult(SOURCE, topic.name, unchanged=True, meta=kept)
        found: dict[str, Observation] = {}
        for record in read.parsed:
            observation = parse_record(record, topic)
            if observation is not None:
                found.setdefault(observation.key, observation)
        observations = tuple(found[key] for key in sorted(found))
        return SourceResult(SOURCE, topic.name, observations, meta=kept)


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
        # The live report lists about 2,700 medicines (docs/sources.md#ema-medicines-report); none
        # means a broken export.
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
    # ema_product_number arrived in Oct 2025 (docs/sources.md#ema-medicines-report); older exports
    # key on the name.
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
        published=day_first(nonblank(record.get("first_published_date"))),
        matched_alias=alias,
    )


def _title(name: str | None, inn: str | None) -> str | None:
    """`Qalsody (tofersen)`; the INN alone when it is the medicine's name."""
    if name and inn and name.casefold() != inn.casefold():
        return f"{name} ({inn})"
    return name or inn


def _iso_date(value: str | None) -> str | None:
    """`29/05/2024` -> `2024-05-29`; an unparseable date is kept as it came, not dropped."""
    moment = day_first(value)
    return moment.date().isoformat() if moment else value
