"""Which watchers run: one per enabled source section of the configuration."""

from __future__ import annotations

from bot.config import Secrets, Settings
from watchers.base import Watcher
from watchers.ctgov import ClinicalTrialsWatcher
from watchers.ema import EmaMedicinesWatcher
from watchers.feeds import FeedWatcher
from watchers.http import Http
from watchers.news import GoogleNewsWatcher
from watchers.openfda import OpenFdaWatcher
from watchers.pubmed import PubMedWatcher

__all__ = ["build_watchers", "source_intervals"]

# Defaults that respect each source (seconds): the registry refreshes daily, feeds often.
DEFAULT_INTERVALS = {
    "clinicaltrials": 3600.0,
    # openFDA's keyless quota is 1,000 requests a day per IP (docs/sources.md#openfda); data lags a
    # week.
    "openfda": 6 * 3600.0,
    # EMA regenerates its medicines report at most twice a day
    # (docs/sources.md#ema-medicines-report).
    "ema_medicines": 6 * 3600.0,
    # Every `[[sources.feeds]]` entry (source `feed:<name>`) unless it sets its own interval.
    "feed": 1800.0,
    "google_news": 1800.0,
    # PubMed indexes new papers daily; hourly keeps far inside NCBI's 3 requests/s.
    "pubmed": 3600.0,
}


def build_watchers(settings: Settings, secrets: Secrets, http: Http) -> list[Watcher]:
    """Every watcher whose config section is present and enabled; absent means off."""
    watchers: list[Watcher] = []
    ct = settings.sources.clinicaltrials
    if ct is not None and ct.enabled:
        watchers.append(ClinicalTrialsWatcher(http, base_url=ct.base_url, page_size=ct.page_size))
    fda = settings.sources.openfda
    if fda is not None and fda.enabled:
        key = secrets.openfda_api_key
        watchers.append(OpenFdaWatcher(http, fda.base_url, key.get_secret_value() if key else None))
    ema = settings.sources.ema_medicines
    if ema is not None and ema.enabled:
        watchers.append(EmaMedicinesWatcher(http, ema.url))
    for feed in settings.sources.feeds:
        if feed.enabled:
            watchers.append(FeedWatcher(http, feed.name, feed.url, feed.authority))
    news = settings.sources.google_news
    if news is not None and news.enabled:
        watchers.append(GoogleNewsWatcher(http, news.base_url))
    pubmed = settings.sources.pubmed
    if pubmed is not None and pubmed.enabled:
        ncbi = secrets.ncbi_api_key
        watchers.append(
            PubMedWatcher(http, pubmed.base_url, ncbi.get_secret_value() if ncbi else None)
        )
    return watchers


def source_intervals(settings: Settings) -> dict[str, float]:
    """Poll interval per watcher source name, from config or the defaults."""
    intervals = dict(DEFAULT_INTERVALS)
    ct = settings.sources.clinicaltrials
    if ct is not None and ct.interval:
        intervals["clinicaltrials"] = ct.interval
    for name, section in (
        ("openfda", settings.sources.openfda),
        ("ema_medicines", settings.sources.ema_medicines),
        ("google_news", settings.sources.google_news),
        ("pubmed", settings.sources.pubmed),
    ):
        if section is not None and section.interval:
            intervals[name] = section.interval
    for feed in settings.sources.feeds:
        intervals[f"feed:{feed.name}"] = feed.interval or DEFAULT_INTERVALS["feed"]
    return intervals
