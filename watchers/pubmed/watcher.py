"""PubMed E-utilities: esearch for a topic's names by date, esummary for PMIDs not seen before.

Format reference: docs/sources.md#pubmed. Counts are strings; an empty search is `idlist: []` with a
warninglist; over the rate limit NCBI answers 429, or 200 with a body holding `error`.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from watchers.pubmed.ids import SOURCE
from watchers.text.claims import detect_claim
from watchers.text.coerce import nonblank
from watchers.text.match import find_alias
from watchers.text.redact import Redactor
from watchers.text.words import clip, collapse, is_safety_title, plain_text

__all__ = ["PubMedWatcher", "parse_esearch", "parse_esummary", "parse_summary", "pubmed_term"]

SEEN_KEY = "pmids"
MAX_SEEN = 500  # PMIDs remembered in the poll meta (a search returns at most `retmax`)
_PAPER_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def pubmed_term(names: tuple[str, ...]) -> str:
    """`ulefnersen OR ION363 OR "ION-363"`: names with a hyphen or a space quoted."""
    terms = []
    for name in names:
        name = " ".join(name.replace('"', " ").split())
        if name:
            terms.append(f'"{name}"' if ("-" in name or " " in name) else name)
    return " OR ".join(terms)


class PubMedWatcher:
    """Finds a topic's papers in PubMed; only PMIDs not seen before are summarised."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
        api_key: str | None = None,
        retmax: int = 100,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._retmax = retmax

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """New papers naming the topic; unchanged when the search holds only known PMIDs."""
        found = parse_esearch(
            self._call(
                "esearch.fcgi",
                {"term": pubmed_term(topic.names), "sort": "pub_date", "retmax": self._retmax},
            )
        )
        seen = [pmid for pmid in meta.get(SEEN_KEY, "").split(",") if pmid]
        known = set(seen)
        new = [pmid for pmid in found if pmid not in known]
        observations: tuple[Observation, ...] = ()
        if new:
            records = parse_esummary(self._call("esummary.fcgi", {"id": ",".join(new)}))
            observations = tuple(parse_summary(record, topic) for record in records)
        # A PMID is remembered once summarised, so one the summary left out is asked again.
        done = known | {observation.key for observation in observations}
        kept = [pmid for pmid in found if pmid in done]
        listed = set(found)
        kept += [pmid for pmid in seen if pmid not in listed]
        return SourceResult(
            SOURCE,
            topic.name,
            observations,
            unchanged=not new and SEEN_KEY in meta,
            meta={SEEN_KEY: ",".join(kept[:MAX_SEEN])},
        )

    def _call(self, endpoint: str, params: dict[str, str | int]) -> Mapping[str, Any]:
        query: dict[str, str | int] = {"db": "pubmed", **params, "retmode": "json"}
        query["tool"] = "trialwatch"
        if self._api_key:
            query["api_key"] = self._api_key
        # Http keeps query strings (and so the api_key) out of its error messages.
        _, doc = self._http.get_json(f"{self._base}/{endpoint}", params=query)
        if not isinstance(doc, Mapping):
            raise ParseError(f"PubMed {endpoint}: expected a JSON object")
        expected = "esearchresult" if endpoint.startswith("esearch") else "result"
        if "error" in doc and expected not in doc:
            # NCBI's over-limit answer, sometimes with status 200 (docs/sources.md#pubmed): try
            # later.
            raise FetchError(
                f"PubMed {endpoint} answered with an error: {self._safe(doc['error'])}"
            )
        return doc

    def _safe(self, error: Any) -> str:
        text = clip(collapse(str(error)), 200)
        return Redactor([self._api_key])(text) if self._api_key else text


def parse_esearch(doc: Mapping[str, Any]) -> list[str]:
    """The PMIDs of an esearch answer, newest first; [] for a search that found nothing."""
    result = doc.get("esearchresult")
    if not isinstance(result, Mapping):
        raise ParseError(f"PubMed esearch: no 'esearchresult' object (keys: {sorted(doc)})")
    ids = result.get("idlist")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i.isdigit() for i in ids):
        raise ParseError("PubMed esearch: 'idlist' is not a list of PMIDs")
    return list(dict.fromkeys(ids))


def parse_esummary(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The paper records of an esummary answer in `uids` order; ids without a record skipped."""
    result = doc.get("result")
    if not isinstance(result, Mapping) or not isinstance(result.get("uids"), list):
        raise ParseError("PubMed esummary: no 'result.uids' list")
    records = []
    for uid in result["uids"]:
        record = result.get(str(uid))
        if isinstance(record, Mapping) and "error" not in record and nonblank(record.get("uid")):
            records.append(record)
    return records


def parse_summary(record: Mapping[str, Any], topic: Topic) -> Observation:
    """One esummary record as an Observation for `topic`."""
    pmid = str(record["uid"]).strip()
    raw_title = nonblank(record.get("title")) or f"PMID {pmid}"
    title = plain_text(raw_title) if "<" in raw_title else collapse(raw_title)
    journal = nonblank(record.get("source"))
    claim = detect_claim(title)
    fields: dict[str, FieldValue] = {
        "_authority": "literature",
        "_outlet": journal,
        "_journal": nonblank(record.get("fulljournalname")) or journal,
        "_doi": _doi(record),
        "_summary": _citation(record) or None,
        "_claim": claim.kind.value if claim else None,
        "_regulator": claim.regulator if claim else None,
        "_safety": is_safety_title(title),
    }
    return Observation(
        source=SOURCE,
        key=pmid,
        topic=topic.name,
        title=title,
        url=_PAPER_URL.format(pmid=pmid),
        fields=freeze_fields(fields),
        published=_sort_date(record.get("sortpubdate")),
        matched_alias=find_alias(title, topic.names),
    )


def _doi(record: Mapping[str, Any]) -> str | None:
    for article_id in record.get("articleids") or ():
        if isinstance(article_id, Mapping) and article_id.get("idtype") == "doi":
            return nonblank(article_id.get("value"))
    return None


def _citation(record: Mapping[str, Any]) -> str:
    """`Example A, Sample B. 2026 Oct 2.`: who and when (the journal is `_outlet`)."""
    names = [
        author["name"].strip()
        for author in record.get("authors") or ()
        if isinstance(author, Mapping) and nonblank(author.get("name"))
    ]
    authors = ", ".join(names[:3]) + (" et al" if len(names) > 3 else "")
    parts = [part for part in (authors, nonblank(record.get("pubdate"))) if part]
    return clip(". ".join(parts) + "." if parts else "")


def _sort_date(value: Any) -> datetime | None:
    """`2026/10/02 00:00` (NCBI's sortpubdate) as a UTC datetime."""
    try:
        return datetime.strptime(str(value).strip(), "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return None
