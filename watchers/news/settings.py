"""Google News's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["GoogleNewsSettings"]


class GoogleNewsSettings(SourceSettings):
    base_url: HttpUrl = "https://news.google.com/rss/search"
