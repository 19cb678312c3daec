"""The one interface every source watcher implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from watchers.model import SourceResult, Topic

__all__ = ["Watcher"]


class Watcher(Protocol):
    """Polls one source for one topic.

    `meta` is what the previous successful poll of this (source, topic) returned in
    `SourceResult.meta` (empty on the first poll). `poll` raises FetchError or ParseError on
    any failure; it never returns an empty result to stand for one.
    """

    source: str

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """Return what the source shows for `topic` now, or raise FetchError/ParseError."""
        ...
