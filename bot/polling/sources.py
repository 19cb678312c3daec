"""Which watchers run: one per enabled source section of the configuration, built by its spec."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import HttpSettings, Secrets, Settings
from watchers.base import Watcher
from watchers.net.http import Http
from watchers.registry import REGISTRY
from watchers.spec import BuildContext, SourceSpec

__all__ = ["build_watchers", "host_intervals", "source_intervals"]


def _configured(settings: Settings) -> Iterator[tuple[SourceSpec, Any]]:
    """Each spec with its config section (each entry, for list sections), in registry order."""
    for spec in REGISTRY:
        section = getattr(settings.sources, spec.config_section)
        entries = tuple(section) if spec.instances else (section,) if section is not None else ()
        for entry in entries:
            yield spec, entry


def build_watchers(
    settings: Settings,
    secrets: Secrets,
    http: Http,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Watcher]:
    """Every watcher whose config section is present and enabled; absent means off."""
    named = {name: getattr(secrets, name) for name in type(secrets).model_fields}
    kept = {name: value.get_secret_value() for name, value in named.items() if value}
    return [
        spec.build(
            entry,
            BuildContext(
                http=http,
                secrets=kept,
                clock=clock,
                interval=timedelta(seconds=_interval(spec, entry)),
                monotonic=monotonic,
            ),
        )
        for spec, entry in _configured(settings)
        if entry.enabled
    ]


def _interval(spec: SourceSpec, entry: Any) -> float:
    """An entry's poll interval in seconds: its own `interval`, else the spec's."""
    return float(entry.interval or spec.interval.total_seconds())


def source_intervals(settings: Settings) -> dict[str, float]:
    """Poll interval (seconds) per source id: the section's `interval`, else the spec's."""
    intervals = {s.id: s.interval.total_seconds() for s in REGISTRY if not s.instances}
    for spec, entry in _configured(settings):
        intervals[spec.source_id(entry)] = _interval(spec, entry)
    return intervals


def host_intervals(http: HttpSettings) -> dict[str, float]:
    """Seconds between two requests per host: each spec's pacing (other hosts get
    `[http].min_interval`). A `min_interval` set in the file applies to every host instead."""
    if "min_interval" in http.model_fields_set:
        return {}
    return {host: gap.total_seconds() for s in REGISTRY for host, gap in s.pacing.items()}
