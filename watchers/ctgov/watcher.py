"""ClinicalTrials.gov API v2: fetch studies by id and by search (I/O), parse them (pure).

Format reference: docs/sources.md#clinicaltrialsgov.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchers.ctgov.fields import StudyPath, dated, enrollment
from watchers.ctgov.ids import SOURCE
from watchers.ctgov.pages import PageReader, page_of
from watchers.ctgov.protocol import protocol_fields
from watchers.ctgov.sites import sites_of
from watchers.ctgov.version import QUERY_KEY, STAMP_KEY, data_timestamp, query_fingerprint
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
from watchers.text.coerce import (
    as_list,
    as_map,
    nonblank,
    nonblanks,
    read_enum,
    read_flag,
    read_list,
    read_map,
    read_text,
)
from watchers.text.match import find_alias_in
from watchers.text.trial_ids import nct_id

__all__ = ["FIELDS", "ClinicalTrialsWatcher", "parse_page", "parse_study"]

# Only what we read; every poll (by id and by search) asks for the same modules so a study
# looks the same whichever way it was found. derivedSection is left out on purpose: it
# changes on registry housekeeping (docs/sources.md#clinicaltrialsgov). hasResults comes back
# anyway.
FIELDS = (
    "IdentificationModule|StatusModule|SponsorCollaboratorsModule|DesignModule|"
    "ArmsInterventionsModule|ConditionsModule|ContactsLocationsModule|OversightModule|"
    "OutcomesModule|EligibilityModule|HasResults"
)
_PUBLIC_STUDY_URL = "https://clinicaltrials.gov/study/{nct}"
# Listed trials are asked for together; 1,000 is the registry's largest page
# (docs/sources.md#clinicaltrialsgov), so up to 1,000 ids cost one request.
_IDS_PER_QUERY = 1000


@dataclass
class _Found:
    """A study as parsed, and whether it was found by its id."""

    observation: Observation
    by_id: bool


def _add(
    found: dict[str, _Found],
    study: Mapping[str, Any],
    topic: Topic,
    *,
    by_id: bool = False,
    by_condition: bool = False,
) -> None:
    """Parse a study the first time it is found. Found again by a condition search, a study
    no name matched (nor its id) is parsed again: the condition is why it belongs."""
    nct = _nct_id(study)
    seen = found.get(nct)
    if seen is not None and not (
        by_condition and not seen.by_id and seen.observation.matched_alias is None
    ):
        return
    parsed = parse_study(study, topic, by_id=by_id, by_condition=by_condition)
    found[nct] = _Found(parsed, by_id=by_id)


def _key(observation: Observation) -> str:
    return observation.key


class ClinicalTrialsWatcher:
    """Polls ClinicalTrials.gov for a topic's trials by id, intervention and condition."""

    source = SOURCE

    def __init__(
        self,
        http: Http,
        base_url: str = "https://clinicaltrials.gov/api/v2",
        page_size: int = 100,
        max_pages: int = 50,
        version_probe: bool = True,
    ) -> None:
        self._http = http
        self._base = str(base_url).rstrip("/")
        self._page_size = page_size
        self._max_pages = max_pages
        self._version_probe = version_probe

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Fetch the topic's trials by id plus intervention/condition searches; merge by NCT id.

        First one request to /version: when its dataTimestamp is the one the last successful
        poll of the same query saw, the registry has not refreshed and nothing else is asked.
        """
        ids = _trial_ids(topic)  # a malformed id is a config error: fail before any request
        stamp = data_timestamp(self._http, self._base) if self._version_probe else None
        query = query_fingerprint(topic)
        if stamp is not None and meta.get(STAMP_KEY) == stamp and meta.get(QUERY_KEY) == query:
            return SourceResult(SOURCE, topic.name, unchanged=True, meta=dict(meta))
        # Each study is parsed as its page is read and only its Observation kept: a search of
        # 10,000 studies never holds more than one page of raw JSON, and one study decoded.
        found: dict[str, _Found] = {}
        gone: set[str] = set()
        for listed in self._fetch_listed(ids):
            _add(found, listed, topic, by_id=True)
        # An id missing from the batched answer is asked alone: a 404 says the registry no
        # longer has it ("gone"), a 301 leads to the study under its current id.
        for nct in (nct for nct in ids if nct not in found):
            study = self._fetch_by_id(nct)
            if study is None:
                gone.add(nct)
                continue
            _add(found, study, topic, by_id=True)
        for study in self._search("query.intr", topic.names):
            _add(found, study, topic)
        if topic.conditions:
            for study in self._search("query.cond", topic.conditions):
                _add(found, study, topic, by_condition=True)
        observations = sorted((item.observation for item in found.values()), key=_key)
        # Without a timestamp (probe failed) the stored meta stays: the next probe decides.
        kept = {STAMP_KEY: stamp, QUERY_KEY: query} if stamp is not None else dict(meta)
        return SourceResult(
            SOURCE, topic.name, tuple(observations), gone=frozenset(gone), meta=kept
        )

    def _fetch_by_id(self, nct: str) -> Mapping[str, Any] | None:
        """One study, or None when the registry answers 404 (it no longer has that id)."""
        # An alias id is answered with a 301 to the current id; the client follows it.
        response = self._http.get(
            f"{self._base}/studies/{nct}", params={"fields": FIELDS}, accept=(200, 404)
        )
        if response.status_code == 404:
            return None
        study = decode_json(response)
        if not isinstance(study, Mapping):
            raise ParseError(f"ClinicalTrials.gov study {nct}: expected a JSON object")
        _nct_id(study)  # a study without an id is not a study
        return study

    def _fetch_listed(self, ids: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        """The listed studies in as few requests as pages allow: `filter.ids`, large pages."""
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            yield from self._pages("filter.ids", ",".join(chunk), page_size=len(chunk))

    def _search(self, param: str, terms: Iterable[str]) -> Iterator[Mapping[str, Any]]:
        """Every study of a paged search, following nextPageToken to the last page."""
        query = " OR ".join(f'"{term.replace(chr(34), " ").strip()}"' for term in terms)
        return self._pages(param, query, page_size=self._page_size)

    def _pages(self, param: str, query: str, *, page_size: int) -> Iterator[Mapping[str, Any]]:
        params: dict[str, str | int] = {
            param: query,
            "fields": FIELDS,
            "pageSize": page_size,
            # totalCount comes on the first page only (docs/sources.md#clinicaltrialsgov)
            "countTotal": "true",
        }
        pages = 0
        while True:
            page = PageReader(self._http.get(f"{self._base}/studies", params=params))
            yield from page.studies()  # an empty page is allowed, even one with a token
            token = page.token
            del page  # one page of raw JSON at a time: this one goes before the next comes
            pages += 1
            if token is None:
                return
            if pages >= self._max_pages:
                raise FetchError(
                    f"ClinicalTrials.gov search {param}={query} has more than {self._max_pages} "
                    f"pages of {page_size}: too broad to watch; "
                    "narrow the topic's names or conditions",
                    transient=False,
                )
            # Later pages repeat the same query with the token (docs/sources.md#clinicaltrialsgov).
            params.pop("countTotal", None)
            params["pageToken"] = token


def parse_page(doc: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    """A decoded search page's studies and its nextPageToken (None on the last page)."""
    studies, token = page_of(doc)
    for study in studies:
        _nct_id(study)
    return studies, token


def parse_study(
    study: Mapping[str, Any], topic: Topic, *, by_id: bool, by_condition: bool = False
) -> Observation:
    """One study (a v2 Study object) as an Observation for `topic`.

    A tracked field in an unexpected JSON type is coerced when that is unambiguous, else a
    ParseError (watchers/text/coerce.py): a type change must never read as a field that vanished.
    """
    nct = _nct_id(study)
    at = StudyPath(nct)
    protocol = read_map(study.get("protocolSection"), at("protocolSection"))

    def module(name: str) -> Mapping[str, Any]:
        return read_map(protocol.get(name), at(name))

    ident, status, design = (
        module("identificationModule"),
        module("statusModule"),
        module("designModule"),
    )
    arms = as_map(protocol.get("armsInterventionsModule"))  # names to match (and protocol_fields)
    conditions_module = as_map(protocol.get("conditionsModule"))
    sponsor_module = module("sponsorCollaboratorsModule")
    sponsor = read_map(sponsor_module.get("leadSponsor"), at("leadSponsor"))
    places = module("contactsLocationsModule").get("locations")
    locations = read_list(places, at("locations"))

    official = read_text(ident.get("officialTitle"), at("officialTitle"))
    title = read_text(ident.get("briefTitle"), at("briefTitle")) or official or nct
    titles = [title, official, read_text(ident.get("acronym"), at("acronym"))]
    raw_phases = read_list(design.get("phases"), at("phases"))
    phases = {p for p in (read_enum(raw, at("phases[]")) for raw in raw_phases) if p}
    fields: dict[str, FieldValue] = {
        "brief_title": title,
        "overall_status": read_enum(status.get("overallStatus"), at("overallStatus")),
        # Only set when overall_status is UNKNOWN (docs/sources.md#clinicaltrialsgov).
        "last_known_status": read_enum(status.get("lastKnownStatus"), at("lastKnownStatus")),
        "status_verified": read_text(status.get("statusVerifiedDate"), at("statusVerifiedDate")),
        "why_stopped": read_text(status.get("whyStopped"), at("whyStopped")),
        "phases": tuple(sorted(phases)),
        "enrollment": enrollment(read_map(design.get("enrollmentInfo"), at("enrollmentInfo")), at),
        "start_date": dated(status.get("startDateStruct"), at("startDateStruct")),
        "primary_completion_date": dated(
            status.get("primaryCompletionDateStruct"), at("primaryCompletionDateStruct")
        ),
        "completion_date": dated(status.get("completionDateStruct"), at("completionDateStruct")),
        "has_results": read_flag(study.get("hasResults"), at("hasResults")) is True,
        "results_first_posted": dated(
            status.get("resultsFirstPostDateStruct"), at("resultsFirstPostDateStruct"), typed=False
        ),
        "lead_sponsor": read_text(sponsor.get("name"), at("leadSponsor.name")),
        # Facility, city, state and country identify a site; its recruitment status rides along.
        "sites": sites_of(read_map(raw, at("locations[]")) for raw in locations),
        "fda_regulated_drug": read_flag(
            module("oversightModule").get("isFdaRegulatedDrug"), at("isFdaRegulatedDrug")
        ),
        "last_update_posted": dated(
            status.get("lastUpdatePostDateStruct"), at("lastUpdatePostDateStruct"), typed=False
        ),
        # Outcomes, eligibility, arms, interventions and design (docs/sources.md#clinicaltrialsgov).
        **protocol_fields(protocol, at),
    }
    return Observation(
        source=SOURCE,
        key=nct,
        topic=topic.name,
        title=title,
        url=_PUBLIC_STUDY_URL.format(nct=nct),  # the public page, even behind a mirror
        fields=freeze_fields({k: _shared(v) for k, v in fields.items()}),
        published=None,
        matched_alias=_matched_alias(
            nct,
            topic,
            names_in=[*_intervention_names(arms), *titles],
            conditions_in=[
                *nonblanks(conditions_module.get("conditions")),
                *nonblanks(conditions_module.get("keywords")),
                *titles,
            ],
            by_id=by_id,
            by_condition=by_condition,
        ),
    )


def _shared(value: FieldValue) -> FieldValue:
    """`value` with its text interned: a search's studies repeat statuses, dates, sponsors,
    ages, interventions and sites, and 10,000 Observations then hold each of them once."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, tuple):
        return tuple(map(sys.intern, value))
    return value


def _matched_alias(
    nct: str,
    topic: Topic,
    *,
    names_in: list[str | None],
    conditions_in: list[str | None],
    by_id: bool,
    by_condition: bool,
) -> str | None:
    """Why this study belongs to the topic: a name in its text, its id, or a condition."""
    alias = find_alias_in(names_in, topic.names)
    if alias is not None:
        return alias
    if by_id:
        return nct
    if by_condition and topic.conditions:
        # The registry also matches synonyms and MeSH terms, so the words may not appear;
        # then all we know is that one of the searched conditions matched.
        found = find_alias_in(conditions_in, topic.conditions)
        return found if found is not None else " OR ".join(topic.conditions)
    return None


def _trial_ids(topic: Topic) -> list[str]:
    """The topic's NCT ids, upper-cased and de-duplicated; a malformed one is a config error."""
    ids: list[str] = []
    for raw in topic.trials:
        nct = nct_id(raw)
        if nct is None:
            raise FetchError(
                f"topic {topic.name!r} lists trial {raw!r}, which is not an NCT id "
                "(like NCT04768972)",
                transient=False,
            )
        if nct not in ids:
            ids.append(nct)
    return ids


def _nct_id(study: Mapping[str, Any]) -> str:
    ident = as_map(as_map(study.get("protocolSection")).get("identificationModule"))
    nct = nonblank(ident.get("nctId"))
    if nct is None:
        raise ParseError(
            "ClinicalTrials.gov study has no protocolSection.identificationModule.nctId"
        )
    return nct.strip().upper()


def _intervention_names(arms: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for intervention in as_list(arms.get("interventions")):
        item = as_map(intervention)
        names.extend(nonblanks([item.get("name")]))
        names.extend(nonblanks(item.get("otherNames")))
    return names
