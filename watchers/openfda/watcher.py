"""openFDA Drugs@FDA: each submission of an application that names the topic (I/O + pure parse).

Format reference: docs/sources.md#openfda.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

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
from watchers.openfda.ids import SOURCE
from watchers.text.coerce import as_list, as_map, kind_name, nonblank, nonblanks
from watchers.text.match import find_alias_in

__all__ = ["OpenFdaWatcher", "build_search", "parse_application", "parse_page"]

# Where a drug's names live in a Drugs@FDA record. `openfda` can be `{}` (docs/sources.md#openfda),
# which
# is common for fresh approvals, so the product's own brand and ingredient names are searched too.
_SEARCH_FIELDS = (
    "openfda.generic_name",
    "openfda.brand_name",
    "products.brand_name",
    "products.active_ingredients.name",
)
# openFDA documents no length limit for `search`, but URLs and clause counts have one somewhere;
# longer alias lists are split over several requests whose results are merged.
_MAX_QUERY_CHARS = 1500
_PAGE_LIMIT = 100  # openFDA allows up to 1000; 100 keeps each body small
_MAX_SKIP = 25000  # openFDA's hard cap on `skip` (open.fda.gov/apis/query-parameters)
_OVERVIEW_URL = (
    "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo={}"
)


class OpenFdaWatcher:
    """Polls openFDA Drugs@FDA for applications whose generic or brand names match a topic."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        base_url: str = "https://api.fda.gov",
        api_key: str | None = None,
        max_pages: int = 10,
    ) -> None:
        self._http = http
        self._url = f"{str(base_url).rstrip('/')}/drug/drugsfda.json"
        self._api_key = api_key or None
        self._max_pages = max_pages

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Search every name of the topic; one observation per submission, merged by key."""
        del meta  # openFDA has no cheap "unchanged" signal: each poll reads the submissions
        found: dict[str, Observation] = {}
        kept: dict[str, str] = {}
        for query in build_search(topic.names):
            for doc in self._pages(query):
                if updated := _last_updated(doc):
                    kept["last_updated"] = updated
                for application in parse_page(doc):
                    for observation in parse_application(application, topic):
                        found.setdefault(observation.key, observation)
        observations = tuple(found[key] for key in sorted(found))
        return SourceResult(SOURCE, topic.name, observations, meta=kept)

    def _pages(self, search: str) -> Iterator[Any]:
        """Every page of one search, paging with `skip` while `meta.results.total` says more."""
        skip = pages = 0
        while True:
            params: dict[str, str | int] = {"search": search, "limit": _PAGE_LIMIT}
            if skip:
                params["skip"] = skip
            if self._api_key:
                params["api_key"] = self._api_key
            doc = self._get(params)
            if doc is None:  # no (more) matches
                return
            yield doc
            pages += 1
            skip += _PAGE_LIMIT
            if skip >= _total(doc) or not parse_page(doc):
                return
            if pages >= self._max_pages or skip > _MAX_SKIP:
                raise FetchError(
                    f"openFDA search {search} matches {_total(doc)} applications, more than "
                    f"the {pages * _PAGE_LIMIT} we read: too broad to watch; "
                    "narrow the topic's names",
                    transient=False,
                )

    def _get(self, params: Mapping[str, str | int]) -> Any:
        """One page as JSON, or None for openFDA's 404 NOT_FOUND, its answer to zero matches."""
        # The API key travels in the query string; Http scrubs query strings from its errors,
        # and the messages raised here name the path only.
        response = self._http.get(self._url, params=params, accept=(200, 404))
        if response.status_code == 200:
            return decode_json(response)
        # docs/sources.md#openfda: zero matches is HTTP 404 {"error":{"code":"NOT_FOUND",...}}.
        try:
            body = decode_json(response)
        except ParseError:
            body = None
        error = body.get("error") if isinstance(body, Mapping) else None
        if isinstance(error, Mapping) and error.get("code") == "NOT_FOUND":
            return None
        code = error.get("code") if isinstance(error, Mapping) else None
        what = f"error code {code}" if isinstance(code, str) else "not openFDA's NOT_FOUND answer"
        where = f"{response.url.host}{response.url.path}"
        raise FetchError(f"{where} answered HTTP 404 ({what})", transient=False)


def build_search(names: Iterable[str]) -> list[str]:
    """openFDA `search` expressions covering every name in every name field, each kept short."""
    queries: list[str] = []
    clauses: list[str] = []
    for name in names:
        # A quoted phrase cannot hold a quote or a backslash; both are noise in a drug name.
        phrase = " ".join(re.sub(r'["\\]', " ", name).split())
        if not phrase:
            continue
        group = [f'{field}:"{phrase}"' for field in _SEARCH_FIELDS]
        if clauses and len(" OR ".join([*clauses, *group])) > _MAX_QUERY_CHARS:
            queries.append(" OR ".join(clauses))
            clauses = []
        clauses.extend(group)
    if clauses:
        queries.append(" OR ".join(clauses))
    return queries


def parse_page(doc: Any) -> list[Mapping[str, Any]]:
    """The applications of one Drugs@FDA answer (`{meta, results: [...]}`)."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"openFDA answer is not a JSON object: {kind_name(doc)}")
    results = doc.get("results")
    if not isinstance(results, list):
        raise ParseError(f"openFDA answer has no 'results' list (keys: {sorted(doc)})")
    return [item for item in results if isinstance(item, Mapping)]


def parse_application(application: Mapping[str, Any], topic: Topic) -> list[Observation]:
    """Every submission of one Drugs@FDA application as an Observation for `topic`."""
    number = nonblank(application.get("application_number"))
    if number is None:  # without it there is no stable key and no page to link to
        return []
    openfda = as_map(application.get("openfda"))
    products = [as_map(product) for product in as_list(application.get("products"))]
    ingredients = [
        nonblank(as_map(ingredient).get("name"))
        for product in products
        for ingredient in as_list(product.get("active_ingredients"))
    ]
    brands = _unique(
        [*nonblanks(openfda.get("brand_name")), *(p.get("brand_name") for p in products)]
    )
    generics = _unique([*nonblanks(openfda.get("generic_name")), *ingredients])
    alias = find_alias_in(
        [*brands, *generics, *nonblanks(openfda.get("substance_name"))], topic.names
    )
    label = _label(brands, generics)
    url = _OVERVIEW_URL.format(re.sub(r"\D", "", number))
    observations = []
    # Submissions are not sorted (docs/sources.md#openfda); the caller sorts observations by key.
    for raw in as_list(application.get("submissions")):
        submission = as_map(raw)
        kind = _code(submission.get("submission_type"))
        serial = _code(submission.get("submission_number"))
        if kind is None and serial is None:
            continue
        tag = f"{kind or '?'}-{serial or '?'}"
        status_date = nonblank(submission.get("submission_status_date"))
        fields: dict[str, FieldValue] = {
            "submission_status": nonblank(submission.get("submission_status")),
            "submission_status_date": _iso_date(status_date),
            "_application": number,
            "_brand_names": brands,
            "_generic_names": generics,
            "_sponsor": nonblank(application.get("sponsor_name")),
            "_submission_type": kind,
            "_review_priority": nonblank(submission.get("review_priority")),
        }
        observations.append(
            Observation(
                source=SOURCE,
                key=f"{number}:{tag}",
                topic=topic.name,
                title=f"{label} {number} {tag}".strip(),
                url=url,
                fields=freeze_fields(fields),
                published=_moment(status_date),
                matched_alias=alias,
            )
        )
    return observations


def _label(brands: tuple[str, ...], generics: tuple[str, ...]) -> str:
    """`QALSODY (tofersen)`: brand names as FDA writes them, the generic name in lower case."""
    generic = "/".join(name.lower() for name in generics)
    if brands:
        return f"{'/'.join(brands)} ({generic})" if generic else "/".join(brands)
    return generic


def _iso_date(value: str | None) -> str | None:
    """`20230425` -> `2023-04-25`; anything else is kept as it came rather than dropped."""
    moment = _moment(value)
    return moment.date().isoformat() if moment else value


def _moment(value: str | None) -> datetime | None:
    if value is None or not re.fullmatch(r"\d{8}", value.strip()):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _total(doc: Mapping[str, Any]) -> int:
    total = as_map(as_map(doc.get("meta")).get("results")).get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else 0


def _last_updated(doc: Mapping[str, Any]) -> str | None:
    return nonblank(as_map(doc.get("meta")).get("last_updated"))


def _code(value: Any) -> str | None:
    """`submission_number` is a string (docs/sources.md#openfda); accept a number too."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = nonblank(value)
    return text.strip() if text else None


def _unique(values: Iterable[Any]) -> tuple[str, ...]:
    """Sorted distinct names; `TOFERSEN` and `Tofersen` are one name."""
    seen: dict[str, str] = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(value.strip().casefold(), value.strip())
    return tuple(sorted(seen.values()))
