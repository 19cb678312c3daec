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

from watchers.claims import detect_claim
from watchers.feedparse import FeedItem, parse_feed
from watchers.http import Http
from watchers.identity import FINGERPRINTS_KEY, settle_keys
from watchers.match import IN_TEXT, Mention, find_mention
from watchers.model import FieldValue, Observation, SourceResult, Topic, freeze_fields
from watchers.shared_fetch import SharedFetch
from watchers.specs.feeds import OFFICIAL
from watchers.terms import held_validators, terms_digest
from watchers.text import clip, is_safety_title

__all__ = [
    "FeedItem",
    "FeedWatcher",
    "feed_observation",
    "names_fingerprint",
    "parse_feed",
]

# Where in the poll meta the topic's names are remembered (as a digest): when they change,
# the feed is read in full again instead of trusting a 304 for the old names.
NAMES_KEY = "names"
# Which rules matched and keyed the stored items: bump it when matching (what names an item)
# or identity (canonical links, fingerprints) changes, so the first full read after an upgrade
# adopts items it merely re-finds instead of alerting them as new (SourceResult.rules_changed).
# 2: full text and trial numbers matched; session parameters stripped from links.
RULES_KEY = "rules"
RULES = "2"


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
            lambda response: parse_feed(response.content, where=where, base_url=url),
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


def feed_observation(
    item: FeedItem,
    topic: Topic,
    *,
    source: str,
    authority: str,
    outlet: str,
    safety: bool = False,
    mention: Mention | None = None,
    fallback_url: str = "",
    title: str | None = None,
    summary: str | None = None,
) -> Observation:
    """A feed item as an Observation: informational `_` fields only, so it alerts once."""
    # `title` and `summary` replace the item's own (Google News splits the outlet off).
    headline = title if title is not None else item.title
    # Headlines make claims; an agency's own summary is its word too ("EMA has recommended
    # granting..."), but a news teaser is not, so only official summaries are read for claims.
    official = authority in OFFICIAL
    claim = detect_claim(headline)
    if claim is None and official:
        claim = detect_claim(item.summary)
    # A headline that does not name the topic claims something about another subject, unless
    # a regulator wrote it ("FDA approves treatment for SOD1-ALS" names the drug in its body).
    if mention is not None and mention.where == IN_TEXT and not official:
        claim = None
    guid_url = item.guid if item.guid and item.guid.startswith(("http://", "https://")) else None
    fields: dict[str, FieldValue] = {
        "_authority": authority,
        "_outlet": outlet,
        "_summary": clip(item.summary if summary is None else summary) or None,
        "_claim": claim.kind.value if claim else None,
        "_regulator": claim.regulator if claim else None,
        "_safety": safety or is_safety_title(headline),
        # Where the topic is named: severity reads it; the alert quotes the excerpt.
        "_matched_in": mention.where if mention else None,
        "_excerpt": mention.excerpt if mention else None,
    }
    return Observation(
        source=source,
        key=item.key or fallback_url,
        topic=topic.name,
        title=headline,
        url=item.link or guid_url or fallback_url,
        fields=freeze_fields(fields),
        published=item.published,
        matched_alias=mention.name if mention else None,
    )
