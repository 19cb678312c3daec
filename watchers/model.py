"""Core value types shared by watchers, state and bot: topics, observations, results, errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "TEXT_LIMIT",
    "FetchError",
    "FieldValue",
    "Observation",
    "ParseError",
    "RegistryVersion",
    "SourceError",
    "SourceResult",
    "Topic",
    "cap_text",
    "clean_text",
    "freeze_fields",
]

# The longest text one stored field keeps. Real titles, summaries and URLs are far shorter; a
# hostile or broken source must not store megabytes per item (or print them in the digest).
TEXT_LIMIT = 10_000

# A tracked field's value. Tuples hold sets (e.g. trial sites), kept sorted so equality is stable.
FieldValue = str | int | bool | None | tuple[str, ...]


def freeze_fields(fields: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    """Return a read-only copy so an Observation cannot be changed after it is made."""
    return MappingProxyType(dict(fields))


def cap_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters (the last one an ellipsis); the same input, the same cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a database or a target refuses in text: NUL (PostgreSQL text, C strings) and lone UTF-16
# surrogates (no UTF-8 encoding: psycopg, httpx and json-to-Slack all fail on them).
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` without NUL, lone surrogates as U+FFFD, capped at `limit`: storable and sendable."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return cap_text(text, limit)


def _cleaned(value: Any) -> Any:
    # Nested too: a field or a meta value a parser left as a list or a dict is stored as JSON.
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, tuple | list):
        return type(value)(_cleaned(item) for item in value)
    if isinstance(value, Mapping):
        return {_cleaned(key): _cleaned(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Topic:
    """A watched drug programme: its name, aliases, trial ids, conditions and routing."""

    name: str
    aliases: tuple[str, ...] = ()
    trials: tuple[str, ...] = ()  # NCT ids
    conditions: tuple[str, ...] = ()
    slack_channel: str | None = None
    eu_trials: tuple[str, ...] = ()  # EudraCT (2020-005522-28) or CTIS (2025-523333-26-00)

    @property
    def names(self) -> tuple[str, ...]:
        """The topic name followed by every alias: what a search or a matcher looks for."""
        return (self.name, *self.aliases)

    @property
    def trial_ids(self) -> tuple[str, ...]:
        """Every registry number of the topic's trials: NCT ids, then EU numbers."""
        return (*self.trials, *self.eu_trials)


@dataclass(frozen=True)
class Observation:
    """One record as a source shows it now, normalized. `key` is stable per source."""

    source: str
    key: str
    topic: str
    title: str
    url: str
    fields: Mapping[str, FieldValue] = field(default_factory=dict, hash=False)
    published: datetime | None = None
    matched_alias: str | None = None

    def __post_init__(self) -> None:
        # Every source's text is cleaned and capped here, once, before it is diffed, stored or
        # shown: one NUL in a title must not fail every poll on PostgreSQL.
        for name in ("key", "title", "url"):
            object.__setattr__(self, name, clean_text(getattr(self, name)))
        if self.matched_alias is not None:
            object.__setattr__(self, "matched_alias", clean_text(self.matched_alias))
        cleaned = _cleaned(dict(self.fields))
        if cleaned != self.fields:
            object.__setattr__(self, "fields", freeze_fields(cleaned))


@dataclass(frozen=True)
class SourceResult:
    """What one successful poll of a source for a topic saw.

    `observations` is what the source shows now. A key absent from it is NOT gone: searches
    drift. Only keys in `gone` (e.g. a trial fetched by id that the registry no longer has)
    may be reported as removed. `unchanged=True` means the source said nothing changed since
    the last poll (HTTP 304, same data timestamp): the stored snapshot stays as it is.
    `meta` carries small source bookkeeping to store for the next poll (e.g. dataTimestamp).
    `rules_changed=True` says this poll matched or keyed items by newer rules than the stored
    snapshot was made with (an upgrade): an item new to the snapshot but published before the
    last successful poll was already there, unseen or under another key, and is adopted silently.
    """

    source: str
    topic: str
    observations: tuple[Observation, ...] = ()
    gone: frozenset[str] = frozenset()
    unchanged: bool = False
    meta: Mapping[str, str] = field(default_factory=dict, hash=False)
    rules_changed: bool = False

    def __post_init__(self) -> None:
        # The meta is stored and sent back as request headers and parameters: cleaned as text is.
        cleaned = _cleaned(dict(self.meta))
        if cleaned != self.meta:
            object.__setattr__(self, "meta", cleaned)


class SourceError(Exception):
    """A poll that did not produce a trustworthy result. Never to be treated as an empty one."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(clean_text(message))  # stored as the source's health, shown in Slack
        self.transient = transient


class FetchError(SourceError):
    """The source could not be reached or answered with an error (HTTP, timeout, quota)."""


class ParseError(SourceError):
    """The source answered, but not with something we can read (HTML error page, bad JSON)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True)
class RegistryVersion:
    """What we keep of one version of a record: its date, status, dates and enrollment."""

    nct: str
    version: int
    date: str
    overall_status: str | None
    start_date: str | None  # "2020-03-12 (estimated)", as the live poll words dates
    primary_completion_date: str | None
    completion_date: str | None
    enrollment: str | None
    module_labels: tuple[str, ...]
    # The protocol fields as the live poll reads them ({} for a version stored before them).
    protocol: Mapping[str, FieldValue] = field(default_factory=dict, hash=False)
