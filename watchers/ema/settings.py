"""EMA medicines data's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from watchers.settings import HttpUrl, SourceSettings

__all__ = ["EmaMedicinesSettings"]


class EmaMedicinesSettings(SourceSettings):
    url: HttpUrl = "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines_json-report_en.json"
