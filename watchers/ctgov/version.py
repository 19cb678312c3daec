"""ClinicalTrials.gov `/version`: a one-request probe of whether the registry's data refreshed.

`GET /version` -> `{"apiVersion": "2.0.5", "dataTimestamp": "2026-10-14T09:00:21"}`; only
`apiVersion` is required and the data refreshes about once a weekday
(docs/sources.md#clinicaltrialsgov).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchers.model import SourceError, Topic
from watchers.net.http import Http
from watchers.net.terms import terms_digest

__all__ = ["QUERY_KEY", "STAMP_KEY", "data_timestamp", "parse_version", "query_fingerprint"]

STAMP_KEY = "data_timestamp"
# The topic's query as a digest: a trial or alias added since the last poll is looked up at
# once rather than after the next daily refresh.
QUERY_KEY = "query"


def data_timestamp(http: Http, base_url: str) -> str | None:
    """The registry's dataTimestamp, or None when the probe fails or has none."""
    try:
        _, doc = http.get_json(f"{base_url}/version")
    except SourceError:
        return None  # only an optimisation: the caller polls in full instead
    return parse_version(doc)


def parse_version(doc: Any) -> str | None:
    """`dataTimestamp` of a /version answer (optional in the spec), or None."""
    stamp = doc.get("dataTimestamp") if isinstance(doc, Mapping) else None
    return stamp.strip() if isinstance(stamp, str) and stamp.strip() else None


def query_fingerprint(topic: Topic) -> str:
    """A short digest of everything the ClinicalTrials.gov poll asks about a topic."""
    return terms_digest(topic.names, topic.trials, topic.conditions)
