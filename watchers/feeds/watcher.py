"""Any RSS/Atom feed (FDA, EMA, company IR, news) as a watcher: conditional GET, alias filter.

Regulator and company feeds carry everything the publisher puts out, so only items naming
the topic become observations: its name, an alias or one of its trial numbers, in the title,
the summary or the full text ("Ionis reports third quarter results" names the drug only in
its body). Several topics poll the same feed: it is read at most once per `cache_seconds`
(shared_fetch.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from watchers.model import Observation, SourceResult, Topic
from watchers.net.http import Http
from watchers.net.shared_fetch import SharedFetch
from watchers.net.terms import held_validators, terms_digest
from watchers.text.feed_items import OFFICIAL, RULES, RULES_KEY, feed_observation
from watchers.text.identity import FINGERPRINTS_KEY, settle_keys
from watchers.text.match import Mention, find_mention

if TYPE_CHECKING:
    from watchers.text.feedparse import FeedItem

__all__ = ["FeedWatcher", "feed_observation", "names_fingerprint"]

# Where in the poll meta the topic's names are remembered (as a digest): when they change,
# the feed is read in full again instead of trusting a 304 for the old names.
NAMES_KEY = "names"


def names_fingerprint(topic: Topic) -> str:
    """A short digest of the names and trial numbers a topic is matched by."""
    return terms_digest(topic.names, topic.trial_ids)


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
        # MedWatch carries only safety communications (docs/sources.md#fda-feeds).
        self._safety = ("medwatch" in f"{name} {url}".lower()) if safety is None else safety
        where = f"{name} ({url})"
        self._shared = SharedFetch(
            http,
            url,
            lambda response: _parse(response.content, where, url),
            cache_seconds=cache_seconds,
            clock=clock,
        )

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The feed's items naming `topic`; unchanged (no parsing) when the server says 304."""
        fingerprint = names_fingerprint(topic)
        held = held_validators(meta, self._url, NAMES_KEY, fingerprint)
        read = self._shared.read(held)
        kept = {**read.meta, NAMES_KEY: fingerprint}
        if read.parsed is None:
            # The stored meta is replaced: carry over what only a full read may renew.
            for key in (FINGERPRINTS_KEY, RULES_KEY):
                if key in meta:
                    kept[key] = meta[key]
            return SourceResult(self.source, topic.name, unchanged=True, meta=kept)
        observations = []
        for item in read.parsed:
            mention = find_mention(topic, item.title, (item.summary, item.content))
            if mention is not None:
                observations.append(self.observation(item, topic, mention))
        settled, identity = settle_keys(observations, meta)
        return SourceResult(
            self.source,
            topic.name,
            settled,
            meta={**kept, **identity, RULES_KEY: RULES},
            rules_changed=bool(meta) and meta.get(RULES_KEY) != RULES,
        )

    def observation(self, item: FeedItem, topic: Topic, mention: Mention | None) -> Observation:
        """One item of this feed as an Observation for `topic`."""
        return feed_observation(
            item,
            topic,
            source=self.source,
            authority=self._authority,
            outlet=self._authority if self._authority in OFFICIAL else self._name,
            safety=self._safety,
            mention=mention,
            fallback_url=self._url,
        )


def _parse(body: bytes, where: str, url: str) -> list[FeedItem]:
    """The feed's items; feedparser is imported by the first feed that changed (a `check` whose
    feeds all answer 304 never loads it)."""
    from watchers.text.parse_pool import PARSE_POOL

    return PARSE_POOL.parse(body, where, url)
