"""SEC EDGAR full-text search: company filings naming a topic, one observation per filing.

Format reference: docs/sources.md#sec-edgar. SEC refuses requests without a User-Agent
naming an organisation and a contact, allows at most 10 requests per second in total, and
answers with HTML block pages (sometimes with status 200) that are errors, never results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import httpx

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
from watchers.sec_edgar.ids import MIN_INTERVAL, SOURCE, is_placeholder_contact
from watchers.text.coerce import as_map, kind_name, nonblank, nonblanks, read_count, utc_day
from watchers.text.window import THROUGH_KEY, window_start
from watchers.text.words import clip, collapse, plain_text

__all__ = [
    "FORMS",
    "SecEdgarWatcher",
    "block_page_error",
    "filing_index_url",
    "parse_filings",
    "parse_hits",
    "statement_note",
]

DEFAULT_BASE_URL = "https://efts.sec.gov/LATEST"
FORMS = ("8-K", "10-Q", "10-K", "6-K", "20-F", "S-1")
# 8-K items that carry a press release or other news the company chose to disclose.
MATERIAL_8K_ITEMS = frozenset({"7.01", "8.01"})
_PAGE_SIZE = 100  # fixed by the server
_CIK_NOTE = re.compile(r"\s*\(CIK \d+\)\s*$")
_INDEX_URL = "https://www.sec.gov/Archives/edgar/data/{cik}/{folder}/{adsh}-index.htm"
_UNDECLARED = "Undeclared Automated Tool"
_RATE = "Request Rate Threshold Exceeded"


class SecEdgarWatcher:
    """Searches EDGAR's full text for each topic name; one observation per filing (`adsh`)."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        today: Callable[[], date],
        contact: str,
        base_url: str = DEFAULT_BASE_URL,
        lookback_days: int = 30,
        max_pages: int = 10,
    ) -> None:
        if not contact.strip():
            raise ValueError("SEC EDGAR needs a contact (organisation and e-mail) to send")
        self._http = http
        self._today = today
        self._headers = {"User-Agent": f"{' '.join(contact.split())} (trialwatch)"}
        # Config refuses it already; a watcher built otherwise still sends nothing.
        self._placeholder = is_placeholder_contact(contact)
        self._base = str(base_url).rstrip("/")
        http.keep_host_under(httpx.URL(self._base).host, MIN_INTERVAL)
        self._lookback = timedelta(days=lookback_days)
        self._max_pages = max_pages

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Filings of the last `lookback_days` (longer after an outage) naming any topic name."""
        if self._placeholder:
            raise FetchError(
                "the SEC contact is still the example placeholder: set the source's `contact` "
                "to your organisation and a real e-mail (SEC blocks undeclared tools); "
                "nothing was sent to SEC",
                transient=False,
            )
        today = self._today()
        since = window_start(today, self._lookback, meta)
        found: dict[str, Observation] = {}
        for name in topic.names:
            hits = list(self._search(name, since, today))
            for observation in parse_filings(hits, topic, found_by=name):
                found.setdefault(observation.key, observation)
        observations = tuple(found[key] for key in sorted(found))
        return SourceResult(SOURCE, topic.name, observations, meta={THROUGH_KEY: today.isoformat()})

    def _search(self, name: str, since: date, today: date) -> Iterator[Mapping[str, Any]]:
        params: dict[str, str | int] = {
            "q": f'"{" ".join(name.replace(chr(34), " ").split())}"',
            "forms": ",".join(f for form in FORMS for f in (form, f"{form}/A")),
            "dateRange": "custom",
            "startdt": since.isoformat(),
            "enddt": today.isoformat(),
        }
        offset = 0
        for _ in range(self._max_pages):
            if offset:
                params["from"] = offset
            doc = self._get(params)
            hits, total = parse_hits(doc)
            yield from hits
            offset += len(hits)
            if not hits or offset >= total:
                return
        raise FetchError(
            f"SEC full-text search for {name!r} matches more than {offset} documents: too broad "
            "to watch; narrow the topic's names",
            transient=False,
        )

    def _get(self, params: Mapping[str, str | int]) -> Any:
        response = self._http.get(
            f"{self._base}/search-index",
            params=params,
            headers=self._headers,
            accept=(200, 403),  # 403 may be a block page that says what SEC wants
        )
        if (refusal := block_page_error(response)) is not None:
            raise refusal
        if response.status_code != 200:
            raise FetchError(f"SEC full-text search answered HTTP {response.status_code}")
        try:
            doc = decode_json(response)
        except ParseError as exc:
            raise ParseError(f"SEC full-text search: {exc}") from None
        if isinstance(doc, Mapping) and (error := nonblank(doc.get("error"))):
            raise FetchError(f"SEC full-text search refused the query: {clip(error, 200)}")
        return doc


def block_page_error(response: httpx.Response) -> FetchError | None:
    """The error saying what SEC wants, when the answer is one of its block pages (HTML)."""
    ctype = response.headers.get("content-type", "")
    head = response.content[:4000].decode("utf-8", errors="replace")
    if "html" not in ctype and not head.lstrip().startswith("<"):
        return None
    text = plain_text(head)
    if _UNDECLARED.casefold() in text.casefold():
        return FetchError(
            "SEC refused the request as coming from an undeclared automated tool: SEC wants a "
            "User-Agent naming your organisation and a contact e-mail (the source's `contact` "
            'setting, e.g. "Your Org ops@your-org.example")',
            transient=False,  # retrying cannot help until the setting changes
        )
    if _RATE.casefold() in text.casefold():
        return FetchError(
            "SEC's request rate threshold exceeded: SEC allows at most 10 requests per second "
            "from one organisation and blocks the address until the rate has stayed under that "
            "for 10 minutes; another client on this network may share the limit"
        )
    return FetchError(
        f"SEC answered HTTP {response.status_code} with an HTML page, not search results",
        transient=False,
    )


def parse_hits(doc: Any) -> tuple[list[Mapping[str, Any]], int]:
    """The document hits of one search page and the total the server counts."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"SEC search answer is not a JSON object: {kind_name(doc)}")
    hits = as_map(doc.get("hits"))
    listed = hits.get("hits")
    if not isinstance(listed, list):
        raise ParseError(f"SEC search answer has no 'hits.hits' list (keys: {sorted(doc)})")
    total = as_map(hits.get("total")).get("value")
    count = total if isinstance(total, int) and not isinstance(total, bool) else len(listed)
    return [as_map(hit) for hit in listed if as_map(as_map(hit).get("_source"))], count


def parse_filings(
    hits: list[Mapping[str, Any]], topic: Topic, *, found_by: str
) -> list[Observation]:
    """One Observation per filing: EDGAR returns one hit per document, exhibits included."""
    filings: dict[str, list[Mapping[str, Any]]] = {}
    for hit in hits:
        source = as_map(hit.get("_source"))
        adsh = nonblank(source.get("adsh")) or _adsh_from_id(hit.get("_id"))
        if adsh is not None:
            filings.setdefault(adsh, []).append(source)
    return [_filing(adsh, docs, topic, found_by) for adsh, docs in filings.items()]


def is_material_8k(form: str | None, items: tuple[str, ...]) -> bool:
    """An 8-K (or its amendment) carrying a press release or other events (items 7.01, 8.01)."""
    return bool(form) and str(form).split("/")[0] == "8-K" and bool(MATERIAL_8K_ITEMS & set(items))


def filing_index_url(cik: str | None, adsh: str) -> str:
    """The filing's index page on www.sec.gov (the full-text search UI when the CIK is unknown)."""
    if cik is None or not cik.strip().isdigit():
        return f"https://efts.sec.gov/LATEST/search-index?q={adsh}"
    folder = adsh.replace("-", "")
    return _INDEX_URL.format(cik=int(cik), folder=folder, adsh=adsh)


def _filing(adsh: str, docs: list[Mapping[str, Any]], topic: Topic, found_by: str) -> Observation:
    # The main document (sequence 1) speaks for the filing; exhibits repeat its facts.
    docs = sorted(docs, key=_sequence)
    main = docs[0]
    company = _company(nonblanks(main.get("display_names")))
    ciks = nonblanks(main.get("ciks"))
    form = nonblank(main.get("form")) or next(iter(nonblanks(main.get("root_forms"))), None)
    items = tuple(sorted({item for doc in docs for item in nonblanks(doc.get("items"))}))
    filed = nonblank(main.get("file_date"))
    described = [d for d in (nonblank(doc.get("file_description")) for doc in docs) if d]
    title = " ".join(p for p in (company or "A company", form or "filing") if p)
    if items:
        title += f" (item{'s' if len(items) > 1 else ''} {', '.join(items)})"
    # Tracked fields are the filing's key facts (shown on its alert); a filing never changes.
    fields: dict[str, FieldValue] = {
        "company": company,
        "form": form,
        "items": items,
        "filing_date": filed,
        "_cik": ciks[0] if ciks else None,
        "_documents": tuple(dict.fromkeys(described))[:10],
        "_material_8k": is_material_8k(form, items),
        "_statement_by": company,
        # Shown as the alert's claim check: a filing is the filer's word, not a regulator's.
        "_claim_note": statement_note(company),
    }
    return Observation(
        source=SOURCE,
        key=adsh,
        topic=topic.name,
        title=title,
        url=filing_index_url(ciks[0] if ciks else None, adsh),
        fields=freeze_fields(fields),
        published=utc_day(filed),
        # The full-text search matched the name in the filing's text, which we do not read.
        matched_alias=found_by,
    )


def statement_note(company: str | None) -> str:
    """The claim-check line of a filing: whose statement it is."""
    who = company or "the filer"
    return f"{who}'s own statement in an SEC filing, not a regulator's record"


def _sequence(doc: Mapping[str, Any]) -> int:
    # Real hits carry `sequence` as 1 or as "1" (docs/sources.md#sec-edgar); anything else
    # sorts last rather than failing the filing.
    try:
        sequence = read_count(doc.get("sequence"), "SEC hit sequence")
    except ParseError:
        return 999
    return 999 if sequence is None else sequence


def _company(names: list[str]) -> str | None:
    """`BrightSpring Health Services, Inc.  (BTSG, BTSGU)  (CIK 0001865782)` without the CIK."""
    return collapse(_CIK_NOTE.sub("", names[0])) if names else None


def _adsh_from_id(value: Any) -> str | None:
    text = nonblank(value)
    return text.split(":", 1)[0] if text and ":" in text else None
