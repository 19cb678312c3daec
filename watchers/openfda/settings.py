"""openFDA Drugs@FDA's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["OpenFdaSettings"]


class OpenFdaSettings(SourceSettings):
    base_url: HttpUrl = "https://api.fda.gov"
