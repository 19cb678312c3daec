"""Google News RSS search per topic: the names quoted and OR-joined, read as a feed.

Format reference: docs/sources.md#google-news. Items are `Headline - Outlet` with the outlet
also in `<source>`; links are Google redirects (`?oc=5`); the guid is stable. The search asks
for the topic's names and trial numbers and already matched the topic, so items are not
filtered again; the name (or trial number) is shown where the headline has one (the search,
not this watcher, read the article, so a claim in the headline stays the item's claim).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from watchers.model import Observation, SourceResult, Topic
from watchers.net.http import Http
from watchers.news.ids import SOURCE
from watchers.text.feed_items import RULES, RULES_KEY, feed_observation
from watchers.text.feedparse import FeedItem
from watchers.text.identity import FINGERPRINTS_KEY, settle_keys
from watchers.text.match import find_mention
from watchers.text.parse_pool import PARSE_POOL

__all__ = ["GoogleNewsWatcher", "google_news_observations", "google_news_query", "split_outlet"]

QUERY_KEY = "query"
_LOCALE = {"hl": "en-US", "gl": "US", "ceid": "US:en"}


def google_news_query(names: tuple[str, ...]) -> str:
    """`"ulefnersen" OR "ION363"`: every name as an exact phrase."""
    phrases = (" ".join(name.replace('"', " ").split()) for name in names)
    return " OR ".join(f'"{phrase}"' for phrase in phrases if phrase)


class GoogleNewsWatcher:
    """Searches Google News for a topic's names, with a conditional GET."""

    source = SOURCE

    def __init__(self, http: Http, base_url: str = "https://news.google.com/rss/search") -> None:
        self._http = http
        self._base = base_url

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The search's items for `topic`; unchanged when Google answers 304."""
        query = google_news_query((*topic.names, *topic.trial_ids))
        answer = self._http.get_conditional(self._base, meta, params={"q": query, **_LOCALE})
        # The validators are keyed by the full URL, so a changed query never sends old ones.
        kept = {**answer.meta, QUERY_KEY: query}
        if answer.response is None:
            for key in (FINGERPRINTS_KEY, RULES_KEY):  # only a full read renews them
                if key in meta:
                    kept[key] = meta[key]
            return SourceResult(SOURCE, topic.name, unchanged=True, meta=kept)
        url = httpx.URL(self._base)
        items = PARSE_POOL.parse(answer.response.content, f"Google News ({url.host}{url.path})")
        # Google's links are opaque redirects: an article whose link churns keeps its key.
        settled, identity = settle_keys(google_news_observations(items, topic), meta)
        return SourceResult(
            SOURCE,
            topic.name,
            settled,
            meta={**kept, **identity, RULES_KEY: RULES},
            rules_changed=bool(meta) and meta.get(RULES_KEY) != RULES,
        )


def google_news_observations(items: list[FeedItem], topic: Topic) -> tuple[Observation, ...]:
    """Search results as Observations, the outlet split off each headline."""
    observations = []
    for item in items:
        headline, outlet = split_outlet(item.title, item.source_title)
        summary = _own_summary(item.summary, headline, outlet)
        observations.append(
            feed_observation(
                item,
                topic,
                source=SOURCE,
                authority="news",
                outlet=outlet or "Google News",
                mention=find_mention(topic, headline),
                title=headline,
                summary=summary,
            )
        )
    return tuple(observations)


def split_outlet(title: str, source: str | None) -> tuple[str, str | None]:
    """`Headline - Outlet` -> (`Headline`, `Outlet`), using `<source>` when it is the suffix."""
    if source and title.endswith(f" - {source}") and len(title) > len(source) + 3:
        return title[: -len(source) - 3].rstrip(), source
    head, sep, tail = title.rpartition(" - ")
    if sep and head.strip() and tail.strip():
        return head.rstrip(), source or tail.strip()
    return title, source


def _own_summary(text: str, headline: str, outlet: str | None) -> str:
    """What the description says beyond the headline and the outlet (usually nothing)."""
    if text.startswith(headline):
        text = text[len(headline) :].strip()
    if outlet and text.endswith(outlet):
        text = text[: -len(outlet)].strip()
    return text
