"""Federal Register API v1: documents naming a topic, and FDA advisory committee meeting notices.

Format reference: docs/sources.md#federal-register. One search term per request (boolean
syntax inside `conditions[term]` is unverified); `next_page_url` is followed, never computed;
zero matches is HTTP 200 without a `results` key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from watchers.federal_register.ids import SOURCE
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
from watchers.text.coerce import as_list, as_map, kind_name, nonblank, utc_day
from watchers.text.match import find_alias_in, find_mention
from watchers.text.window import THROUGH_KEY, window_start
from watchers.text.words import clip, collapse, plain_text

__all__ = [
    "FDA_SLUG",
    "MEETING_NOTE",
    "FederalRegisterWatcher",
    "is_meeting_notice",
    "meeting_date",
    "parse_document",
    "parse_search",
]

DEFAULT_BASE_URL = "https://www.federalregister.gov/api/v1"
# Match the agency on its slug: its numeric id differs between references.
FDA_SLUG = "food-and-drug-administration"
MEETING_NOTE = (
    "an FDA advisory committee meeting notice: evidence that a meeting is scheduled, "
    "never of an approval"
)
_PER_PAGE = 100
# Fields asked for on top of the defaults: what an advisory committee alert shows.
_FIELDS = (
    "title",
    "type",
    "abstract",
    "document_number",
    "html_url",
    "publication_date",
    "agencies",
    "excerpts",
    "action",
    "dates",
    "docket_ids",
    "citation",
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# "held on January 30, 2025", "on March 5 and 6, 2027", "on May 2-3, 2027": the first day.
_MEETING_DAY = re.compile(
    rf"\b({_MONTHS})\s+(\d{{1,2}})(?:\s*(?:,|and|-|\u2013|through|to)\s*\d{{1,2}})*,?\s+(\d{{4}})"
)


class FederalRegisterWatcher:
    """Polls the Federal Register: documents naming a topic, FDA advisory committee notices."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        today: Callable[[], date],
        base_url: str = DEFAULT_BASE_URL,
        lookback_days: int = 90,
        max_pages: int = 10,
    ) -> None:
        self._http = http
        self._today = today
        self._base = str(base_url).rstrip("/")
        self._lookback = timedelta(days=lookback_days)
        self._max_pages = max_pages

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Documents published since the window start; one request per name plus one for notices."""
        today = self._today()
        since = window_start(today, self._lookback, meta)
        found: dict[str, Observation] = {}
        for name in topic.names:
            for doc in self._search({"conditions[term]": f'"{_phrase(name)}"'}, since):
                observation = parse_document(doc, topic, found_by=name)
                if observation is not None:
                    found.setdefault(observation.key, observation)
        notices = {
            "conditions[agencies][]": FDA_SLUG,
            "conditions[type][]": "NOTICE",
            "conditions[term]": '"Notice of Meeting"',
        }
        for doc in self._search(notices, since):
            observation = parse_document(doc, topic)
            if observation is not None:
                found[observation.key] = observation  # the notice reading wins over a term hit
        observations = tuple(found[key] for key in sorted(found))
        return SourceResult(SOURCE, topic.name, observations, meta={THROUGH_KEY: today.isoformat()})

    def _search(self, conditions: Mapping[str, str], since: date) -> Iterator[Mapping[str, Any]]:
        query = [
            *conditions.items(),
            ("conditions[publication_date][gte]", since.isoformat()),
            ("order", "newest"),
            ("per_page", str(_PER_PAGE)),
            *(("fields[]", name) for name in _FIELDS),
        ]
        url = f"{self._base}/documents.json?{urlencode(query)}"
        for page in range(1, self._max_pages + 1):
            response = self._http.get(url)
            try:
                doc = decode_json(response)
            except ParseError as exc:
                raise ParseError(f"Federal Register search: {exc}") from None
            results, next_url = parse_search(doc)
            yield from results
            if next_url is None or not results:
                return
            if page == self._max_pages:
                break
            # Follow the server's cursor, but against our base URL (a mirror stays a mirror).
            url = f"{self._base}/documents.json?{urlsplit(next_url).query}"
        raise FetchError(
            f"Federal Register search {dict(conditions)} has more than "
            f"{self._max_pages * _PER_PAGE} documents: too broad to watch; "
            "narrow the topic's names",
            transient=False,
        )


def parse_search(doc: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    """A search page's documents and its `next_page_url` (None on the last page)."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"Federal Register answer is not a JSON object: {kind_name(doc)}")
    if "results" not in doc:
        if doc.get("count") == 0:
            return [], None  # zero matches: HTTP 200 with no `results` key
        raise ParseError(f"Federal Register answer has no 'results' (keys: {sorted(doc)})")
    results = doc["results"]
    if not isinstance(results, list):
        raise ParseError("Federal Register answer: 'results' is not a list")
    documents = [item for item in results if isinstance(item, Mapping)]
    next_url = nonblank(doc.get("next_page_url"))
    return documents, next_url


def is_meeting_notice(doc: Mapping[str, Any]) -> bool:
    """Whether a document is an FDA advisory committee meeting notice (or its amendment)."""
    title = (nonblank(doc.get("title")) or "").casefold()
    slugs = {nonblank(as_map(agency).get("slug")) for agency in as_list(doc.get("agencies"))}
    return (
        FDA_SLUG in slugs
        and nonblank(doc.get("type")) == "Notice"
        and "advisory committee" in title
        and ("notice of meeting" in title or "amendment of notice" in title)
    )


def meeting_date(dates: str | None) -> str | None:
    """The first meeting day named in a notice's `dates` text, as `YYYY-MM-DD`."""
    match = _MEETING_DAY.search(dates or "")
    if match is None:
        return None
    month, day, year = match.groups()
    try:
        moment = datetime.strptime(f"{month} {day} {year}", "%B %d %Y")
    except ValueError:
        return None
    return moment.date().isoformat()


def parse_document(
    doc: Mapping[str, Any], topic: Topic, *, found_by: str | None = None
) -> Observation | None:
    """One document as an Observation for `topic`, or None when it is not the topic's.

    A term search matched the document's full text, so `found_by` is reason enough; a meeting
    notice from the notices query must name a topic name or condition in its title, abstract
    or dates.
    """
    number = nonblank(doc.get("document_number"))
    published = nonblank(doc.get("publication_date"))
    if number is None or published is None:
        return None
    title = collapse(nonblank(doc.get("title")) or number)
    abstract = nonblank(doc.get("abstract"))
    dates = nonblank(doc.get("dates"))
    excerpt = plain_text(str(doc.get("excerpts"))) if nonblank(doc.get("excerpts")) else None
    texts = [title, abstract, dates]
    notice = is_meeting_notice(doc)
    mention = find_mention(topic, title, [abstract, dates, excerpt])
    alias = mention.name if mention is not None else None
    about_drug = alias is not None
    if alias is None and notice:
        alias = find_alias_in(texts, topic.conditions)
    if alias is None:
        if found_by is None:
            return None  # a notice about another drug or condition
        alias = found_by
        about_drug = True
    agencies = tuple(
        name for a in as_list(doc.get("agencies")) if (name := nonblank(as_map(a).get("name")))
    )
    fields: dict[str, FieldValue] = {
        "document_type": nonblank(doc.get("type")),
        "meeting_date": meeting_date(dates) if notice else None,
        "_agencies": agencies,
        "_action": nonblank(doc.get("action")),
        "_dates": clip(collapse(dates)) if dates else None,
        "_citation": nonblank(doc.get("citation")),
        "_summary": clip(collapse(abstract)) if abstract else None,
        "_meeting_notice": notice,
        "_about_drug": about_drug,
        # Shown as the alert's claim check: a meeting notice is not a decision.
        "_claim_note": MEETING_NOTE if notice else None,
    }
    return Observation(
        source=SOURCE,
        key=f"{number}@{published}",  # numbers were reused before 2016
        topic=topic.name,
        title=title,
        url=nonblank(doc.get("html_url")) or f"https://www.federalregister.gov/d/{number}",
        fields=freeze_fields(fields),
        published=utc_day(published),
        matched_alias=alias,
    )


def _phrase(name: str) -> str:
    return " ".join(name.replace('"', " ").split())
