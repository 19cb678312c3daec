"""RSS feed's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["FeedSettings"]


class FeedSettings(SourceSettings):
    name: str = Field(min_length=1)
    url: HttpUrl
    authority: Literal["FDA", "EMA", "company", "news"] = "news"
