"""Federal Register's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["FederalRegisterSettings"]


class FederalRegisterSettings(SourceSettings):
    base_url: HttpUrl = "https://www.federalregister.gov/api/v1"
