"""Which watchers run: one per enabled source section of the configuration."""

from __future__ import annotations

from bot.config import Secrets, Settings
from watchers.base import Watcher
from watchers.ctgov import ClinicalTrialsWatcher
from watchers.http import Http

__all__ = ["build_watchers", "source_intervals"]

# Defaults that respect each source (seconds): the registry refreshes daily, feeds often.
DEFAULT_INTERVALS = {"clinicaltrials": 3600.0}


def build_watchers(settings: Settings, secrets: Secrets, http: Http) -> list[Watcher]:
    """Every watcher whose config section is present and enabled; absent means off."""
    del secrets  # used by the regulator and news watchers (API keys)
    watchers: list[Watcher] = []
    ct = settings.sources.clinicaltrials
    if ct is not None and ct.enabled:
        watchers.append(ClinicalTrialsWatcher(http, base_url=ct.base_url, page_size=ct.page_size))
    return watchers


def source_intervals(settings: Settings) -> dict[str, float]:
    """Poll interval per watcher source name, from config or the defaults."""
    intervals = dict(DEFAULT_INTERVALS)
    ct = settings.sources.clinicaltrials
    if ct is not None and ct.interval:
        intervals["clinicaltrials"] = ct.interval
    return intervals
