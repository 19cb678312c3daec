"""PubMed's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["PubMedSettings"]


class PubMedSettings(SourceSettings):
    base_url: HttpUrl = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
