"""EU CTIS's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["CtisSettings"]


class CtisSettings(SourceSettings):
    base_url: HttpUrl = "https://euclinicaltrials.eu/ctis-public-api"
