"""Any RSS/Atom feed (FDA, EMA, company IR, news) as a watcher: conditional GET, alias filter.

Regulator and company feeds carry everything the publisher puts out, so only items naming
the topic (its name or an alias, in the title or summary) become observations. Several
topics poll the same feed: the watcher fetches its URL at most once per `cache_seconds`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from watchers.claims import detect_claim
from watchers.feedparse import FeedItem, parse_feed
from watchers.http import Http
from watchers.match import find_alias_in
from watchers.model import FetchError, FieldValue, Observation, SourceResult, Topic, freeze_fields
from watchers.text import clip, is_safety_title

__all__ = ["FeedItem", "FeedWatcher", "feed_observation", "names_fingerprint", "parse_feed"]

# Where in the poll meta the topic's names are remembered (as a digest): when they change,
# the feed is read in full again instead of trusting a 304 for the old names.
NAMES_KEY = "names"
_OFFICIAL = ("FDA", "EMA")


def names_fingerprint(topic: Topic) -> str:
    """A short digest of the names a topic is matched by."""
    return hashlib.sha256("\n".join(topic.names).encode("utf-8")).hexdigest()[:16]


@dataclass
class _Fetched:
    """One answer for the feed URL: its body (None after a 304), validators, or the error."""

    at: float
    validators: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: FetchError | None = None


class FeedWatcher:
    """Polls one RSS/Atom feed for every topic, fetching it at most once per cache period."""

    def __init__(
        self,
        http: Http,
        name: str,
        url: str,
        authority: str,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        safety: bool | None = None,
    ) -> None:
        self.source = f"feed:{name}"
        self._http = http
        self._name = name
        self._url = url
        self._authority = authority
        self._cache_seconds = cache_seconds
        self._clock = clock
        # MedWatch carries only safety communications (SOURCES.md 2a slug `medwatch`).
        self._safety = ("medwatch" in f"{name} {url}".lower()) if safety is None else safety
        self._cache: dict[str, _Fetched] = {}
        self._lock = threading.Lock()

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The feed's items naming `topic`; unchanged (no parsing) when the server says 304."""
        fingerprint = names_fingerprint(topic)
        sent = _validators(meta) if meta.get(NAMES_KEY) == fingerprint else {}
        fetched = self._fetch(sent)
        kept = {**fetched.validators, NAMES_KEY: fingerprint}
        if fetched.body is None:
            return SourceResult(self.source, topic.name, unchanged=True, meta=kept)
        items = parse_feed(fetched.body, where=f"{self._name} ({self._url})", base_url=self._url)
        observations = []
        for item in items:
            alias = find_alias_in([item.title, item.summary], topic.names)
            if alias is not None:
                observations.append(self.observation(item, topic, alias))
        return SourceResult(self.source, topic.name, tuple(observations), meta=kept)

    def observation(self, item: FeedItem, topic: Topic, alias: str | None) -> Observation:
        """One item of this feed as an Observation for `topic`."""
        return feed_observation(
            item,
            topic,
            source=self.source,
            authority=self._authority,
            outlet=self._authority if self._authority in _OFFICIAL else self._name,
            safety=self._safety,
            matched_alias=alias,
            fallback_url=self._url,
        )

    def _fetch(self, sent: Mapping[str, str]) -> _Fetched:
        # One lock per feed: topics polled in parallel wait for the one request in flight.
        with self._lock:
            now = self._clock()
            cached = self._cache.get(self._url)
            if cached is not None and now - cached.at < self._cache_seconds:
                if cached.error is not None:  # do not hammer a feed that just failed
                    raise FetchError(str(cached.error), transient=cached.error.transient)
                if cached.validators and _validators(sent) == cached.validators:
                    return _Fetched(cached.at, cached.validators)  # this topic has seen it
                if cached.body is not None:
                    return cached
            try:
                answer = self._http.get_conditional(self._url, sent)
            except FetchError as exc:
                self._cache[self._url] = _Fetched(now, error=exc)
                raise
            body = None if answer.response is None else answer.response.content
            fetched = _Fetched(now, dict(answer.meta), body)
            self._cache[self._url] = fetched
            return fetched


def feed_observation(
    item: FeedItem,
    topic: Topic,
    *,
    source: str,
    authority: str,
    outlet: str,
    safety: bool = False,
    matched_alias: str | None = None,
    fallback_url: str = "",
    title: str | None = None,
    summary: str | None = None,
) -> Observation:
    """A feed item as an Observation: informational `_` fields only, so it alerts once."""
    # `title` and `summary` replace the item's own (Google News splits the outlet off).
    headline = title if title is not None else item.title
    # Headlines make claims; an agency's own summary is its word too ("EMA has recommended
    # granting..."), but a news teaser is not, so only official summaries are read for claims.
    claim = detect_claim(headline)
    if claim is None and authority in _OFFICIAL:
        claim = detect_claim(item.summary)
    guid_url = item.guid if item.guid and item.guid.startswith(("http://", "https://")) else None
    fields: dict[str, FieldValue] = {
        "_authority": authority,
        "_outlet": outlet,
        "_summary": clip(item.summary if summary is None else summary) or None,
        "_claim": claim.kind.value if claim else None,
        "_regulator": claim.regulator if claim else None,
        "_safety": safety or is_safety_title(headline),
    }
    return Observation(
        source=source,
        key=item.key or fallback_url,
        topic=topic.name,
        title=headline,
        url=item.link or guid_url or fallback_url,
        fields=freeze_fields(fields),
        published=item.published,
        matched_alias=matched_alias,
    )


def _validators(meta: Mapping[str, str]) -> dict[str, str]:
    """The ETag / Last-Modified entries `Http.get_conditional` keeps in a poll's meta."""
    return {k: v for k, v in meta.items() if k.startswith(("etag ", "last-modified "))}
