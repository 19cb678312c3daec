"""EU CTIS public API: search by names and conditions (POST), retrieve changed trials, parse (pure).

Format reference: docs/sources.md#eu-ctis. The API is undocumented: the search needs its
`sort`, `ctStatus` is a number in search rows and words in a retrieved record, and the web app
answers sibling paths with HTML and status 200 (an error here, never an empty result).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from watchers.ctis.ids import SOURCE, STATUS_WORDS
from watchers.model import (
    FetchError,
    FieldValue,
    Observation,
    ParseError,
    SourceResult,
    Topic,
    freeze_fields,
)
from watchers.net.http import Http
from watchers.net.responses import decode_json
from watchers.net.terms import terms_digest
from watchers.text.coerce import (
    as_count,
    as_list,
    as_map,
    day_first,
    kind_name,
    nonblank,
    nonblanks,
)
from watchers.text.match import find_alias_in

__all__ = ["CtisWatcher", "parse_search_page", "parse_trial", "row_fingerprint", "search_body"]

DEFAULT_BASE_URL = "https://euclinicaltrials.eu/ctis-public-api"
_PAGE_SIZE = 100
_CT_NUMBER = re.compile(r"\d{4}-\d{6}-\d{2}-\d{2}")
_PUBLIC_URL = "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={}"
# Poll meta: a digest of each trial's search row, so a trial is retrieved only when it moved.
ROWS_KEY = "rows"
NAMES_KEY = "names"


class CtisWatcher:
    """Polls CTIS for a topic's trials: one search per name and per condition, then retrieves."""

    source = SOURCE

    def __init__(self, http: Http, base_url: str = DEFAULT_BASE_URL, max_pages: int = 10) -> None:
        self._http = http
        self._base = str(base_url).rstrip("/")
        self._max_pages = max_pages

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Trials naming the topic or its conditions; only trials whose search row moved are read.

        A trial whose search row is the one the last successful poll saw is not retrieved again
        and not in the result (absent is not gone): its stored snapshot stays as it is.
        """
        names = terms_digest(topic.names, topic.eu_trials, topic.conditions)
        seen = _seen_rows(meta) if meta.get(NAMES_KEY) == names else {}
        found: dict[str, tuple[Mapping[str, Any], str]] = {}
        for number in topic.eu_trials:  # a trial by its EU number (EudraCT or CTIS)
            for row in self._search({"number": number}):
                found.setdefault(row["ctNumber"], (row, number))
        for term in topic.names:
            for row in self._search({"containAll": term}):
                found.setdefault(row["ctNumber"], (row, term))
        for condition in topic.conditions:
            for row in self._search({"medicalCondition": condition}):
                found.setdefault(row["ctNumber"], (row, condition))
        rows = {number: row_fingerprint(row) for number, (row, _) in found.items()}
        observations = []
        for number in sorted(found):
            if seen.get(number) == rows[number]:
                continue
            row, term = found[number]
            record = self._retrieve(number)
            observations.append(parse_trial(record, topic, row=row, found_by=term))
        kept = {NAMES_KEY: names, ROWS_KEY: json.dumps(rows, sort_keys=True)}
        unchanged = not observations and ROWS_KEY in meta and (bool(seen) or not found)
        return SourceResult(SOURCE, topic.name, tuple(observations), unchanged=unchanged, meta=kept)

    def _search(self, criteria: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every row of one search, page by page while the server says there is a next page."""
        page = 1
        while True:
            response = self._http.post_json(f"{self._base}/search", search_body(criteria, page))
            rows, more = parse_search_page(_json(response, "search"))
            yield from rows
            if not more or not rows:
                return
            if page >= self._max_pages:
                raise FetchError(
                    f"CTIS search {json.dumps(dict(criteria))} has more than "
                    f"{self._max_pages * _PAGE_SIZE} trials: too broad to watch; "
                    "narrow the topic's names or conditions",
                    transient=False,
                )
            page += 1

    def _retrieve(self, number: str) -> Mapping[str, Any]:
        response = self._http.get(f"{self._base}/retrieve/{number}")
        record = _json(response, f"retrieve/{number}")
        if not isinstance(record, Mapping) or nonblank(record.get("ctNumber")) != number:
            raise ParseError(f"CTIS retrieve/{number}: the answer is not the trial's record")
        return record


def search_body(criteria: Mapping[str, Any], page: int = 1) -> dict[str, Any]:
    """The POST /search body; the server needs the `sort` to answer properly."""
    return {
        "pagination": {"page": page, "size": _PAGE_SIZE},
        "searchCriteria": dict(criteria),
        "sort": {"property": "decisionDate", "direction": "DESC"},
    }


def parse_search_page(doc: Any) -> tuple[list[Mapping[str, Any]], bool]:
    """A search page's rows (each with a valid `ctNumber`) and whether another page follows."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"CTIS search answer is not a JSON object: {kind_name(doc)}")
    data = doc.get("data")
    if not isinstance(data, list):
        raise ParseError(f"CTIS search answer has no 'data' list (keys: {sorted(doc)})")
    rows = []
    for index, row in enumerate(data):
        number = nonblank(as_map(row).get("ctNumber"))
        if number is None or not _CT_NUMBER.fullmatch(number):
            raise ParseError(f"CTIS search row {index} has no EU CT number")
        rows.append(row)
    paging = as_map(doc.get("pagination"))
    more = paging.get("nextPage") is True
    current, total = paging.get("currentPage"), paging.get("totalPages")
    if isinstance(current, int) and isinstance(total, int):
        more = more or current < total
    return rows, more


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """A short digest of a search row: when it is unchanged, the trial was not updated."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_trial(
    record: Mapping[str, Any],
    topic: Topic,
    *,
    row: Mapping[str, Any] | None = None,
    found_by: str | None = None,
) -> Observation:
    """One retrieved CTIS record (with its search row, if any) as an Observation for `topic`."""
    number = nonblank(record.get("ctNumber"))
    if number is None:
        raise ParseError("CTIS record has no ctNumber")
    row = row or {}
    application = as_map(record.get("authorizedApplication"))
    part_one = as_map(application.get("authorizedPartI"))
    details = as_map(part_one.get("trialDetails"))
    identifiers = as_map(details.get("clinicalTrialIdentifiers"))
    titles = [
        nonblank(identifiers.get("publicTitle")),
        nonblank(identifiers.get("fullTitle")),
        nonblank(identifiers.get("shortTitle")),
        nonblank(row.get("ctTitle")),
    ]
    title = next((t for t in titles if t), number)
    conditions = [
        nonblank(as_map(item).get("medicalCondition"))
        for item in as_list(part_one.get("medicalConditions"))
    ]
    nct = _nct_id(identifiers)
    code = as_count(record.get("ctPublicStatusCode"))
    if code is None:
        code = as_count(row.get("ctStatus"))  # a number in search rows
    fields: dict[str, FieldValue] = {
        "overall_status": _status_words(code, record.get("ctStatus")),
        "start_date": _iso_date(record.get("startDateEU") or row.get("startDateEU")),
        "end_date": _iso_date(record.get("endDateEU")),
        "member_states": _member_states(application, row),
        "sponsor": _sponsor(part_one) or nonblank(row.get("sponsor")),
        "results_posted": _results_posted(record, row),
        "early_termination": _early_termination(as_map(record.get("events"))),
        "temporary_halt": bool(as_list(as_map(record.get("events")).get("temporaryHaltList"))),
        "_status_code": code,
        "_nct_id": nct,
        "_decision_date": _iso_date(record.get("decisionDate")),
    }
    alias = find_alias_in([*titles, *_products(part_one)], topic.names)
    if alias is None and (number in topic.eu_trials or nct in topic.trials):
        alias = number if number in topic.eu_trials else nct
    if alias is None and topic.conditions:
        alias = find_alias_in(
            [*conditions, *titles, nonblank(row.get("conditions"))], topic.conditions
        )
    return Observation(
        source=SOURCE,
        key=number,
        topic=topic.name,
        title=title,
        url=_PUBLIC_URL.format(number),
        fields=freeze_fields(fields),
        published=None,
        # CTIS matches its whole record (and synonyms); the term that found it is the reason.
        matched_alias=alias or found_by,
    )


def _json(response: Any, what: str) -> Any:
    try:
        return decode_json(response)
    except ParseError as exc:
        raise ParseError(
            f"CTIS {what}: {exc}; the site serves its web app on paths outside the API, "
            "so check that base_url ends in /ctis-public-api"
        ) from None


def _seen_rows(meta: Mapping[str, str]) -> dict[str, str]:
    try:
        rows = json.loads(meta.get(ROWS_KEY, "{}"))
    except ValueError:
        return {}
    return {k: v for k, v in as_map(rows).items() if isinstance(v, str)}


def _status_words(code: int | None, text: Any) -> str | None:
    if code is not None and code in STATUS_WORDS:
        return STATUS_WORDS[code]
    words = nonblank(text)
    if words is not None and not words.isdigit():
        return words
    return f"status code {code}" if code is not None else None


def _iso_date(value: Any) -> str | None:
    """`14/06/2021` or `2026-08-07T18:27:53.587` -> `2021-06-14` / `2026-08-07`; else as it came."""
    text = nonblank(value)
    if text is None:
        return None
    if moment := day_first(text):
        return moment.date().isoformat()
    if match := re.match(r"(\d{4}-\d{2}-\d{2})(?:$|T)", text):
        return match.group(1)
    return text


def _member_states(application: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[str, ...]:
    states = {
        name
        for item in as_list(application.get("memberStatesConcerned"))
        if (name := nonblank(as_map(item).get("mscName")))
    }
    if not states:  # search rows list `Country:sites`
        states = {c.partition(":")[0].strip() for c in nonblanks(row.get("trialCountries"))}
    return tuple(sorted(s for s in states if s))


def _sponsor(part_one: Mapping[str, Any]) -> str | None:
    sponsors = [as_map(s) for s in as_list(part_one.get("sponsors"))]
    primary = [s for s in sponsors if s.get("primary") is True] or sponsors
    for sponsor in primary:
        if name := nonblank(as_map(sponsor.get("organisation")).get("name")):
            return name
    return None


def _products(part_one: Mapping[str, Any]) -> list[str]:
    """Every name a product goes by: a record may give only a code and a substance."""
    names: list[str] = []
    for product in as_list(part_one.get("products")):
        item = as_map(product)
        info = as_map(item.get("productDictionaryInfo"))
        names += nonblanks(
            [
                item.get("productName"),
                info.get("prodName"),
                info.get("sponsorProductCode"),
                info.get("activeSubstanceName"),
            ]
        )
    return names


def _results_posted(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    results = as_map(record.get("results"))
    if any(as_list(results.get(part)) for part in ("summaryResults", "clinicalStudyReports")):
        return True
    return nonblank(row.get("resultsFirstReceived")) == "Yes"


def _early_termination(events: Mapping[str, Any]) -> bool:
    for trial_event in as_list(events.get("trialEvents")):
        item = as_map(trial_event)
        if any(as_map(item.get("earlyTerminationReason")).values()):
            return True
        for event in as_list(item.get("events")):
            if nonblank(as_map(event).get("notificationType")) == "EARLY_TERMINATION":
                return True
    return False


def _nct_id(identifiers: Mapping[str, Any]) -> str | None:
    secondary = as_map(identifiers.get("secondaryIdentifyingNumbers"))
    number = nonblank(as_map(secondary.get("nctNumber")).get("number"))
    if number is None:
        return None
    match = re.search(r"NCT\d{8}", number.upper())
    return match.group(0) if match else None
