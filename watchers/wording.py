"""How a source's fields read to people, declared in its spec: `state/` and `bot/` ask this."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from watchers.model import FieldValue

_T = TypeVar("_T")

__all__ = [
    "NO_WORDING",
    "ResultsClock",
    "Wording",
]

# A field's change as the lines people read ("Now recruiting: ..."), from its two values.
EventWords = Callable[[FieldValue, FieldValue], list[str]]


@dataclass(frozen=True)
class ResultsClock:
    """The fields of a results clock: results owed 12 months after an ACTUAL primary completion."""

    regulated: str  # true for a study the law binds (FDA-regulated drug)
    completion: str  # the primary completion date
    posted: tuple[str, ...]  # set once results are posted


@dataclass(frozen=True)
class Wording:
    """A source's field vocabulary: labels, value words and which fields mean what."""

    labels: Mapping[str, str] = field(default_factory=dict)
    value_words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field->raw->words
    enums: frozenset[str] = frozenset()  # fields whose UPPER_CASE values read as words
    enum_words: Mapping[str, str] = field(default_factory=dict)  # enum values said otherwise
    sequences: frozenset[str] = frozenset()  # list fields that are one value (phases: 1/2)
    events: Mapping[str, EventWords] = field(default_factory=dict)  # fields told as events
    bookkeeping: frozenset[str] = frozenset()  # stored, never alerted: they move on housekeeping
    status: str | None = None  # a trial's status field
    last_known_status: str | None = None  # what the status was before it became UNKNOWN
    key_facts: tuple[str, ...] = ()  # what a clinical team asks first, in the order they ask
    optional_facts: frozenset[str] = frozenset()  # key facts left out while empty
    dates: tuple[tuple[str, str], ...] = ()  # (field, label): the dates a team follows, in order
    results_clock: ResultsClock | None = None
    # (field, label): the dates a programme calendar lists (a trial's dates, a meeting's day)
    calendar: tuple[tuple[str, str], ...] = ()

    def merge(self, other: Wording) -> Wording:
        """Both vocabularies, this one's first (sources share trial field names)."""
        return Wording(
            labels=MappingProxyType({**other.labels, **self.labels}),
            value_words=MappingProxyType({**other.value_words, **self.value_words}),
            enums=self.enums | other.enums,
            enum_words=MappingProxyType({**other.enum_words, **self.enum_words}),
            sequences=self.sequences | other.sequences,
            events=MappingProxyType({**other.events, **self.events}),
            bookkeeping=self.bookkeeping | other.bookkeeping,
            status=self.status or other.status,
            last_known_status=self.last_known_status or other.last_known_status,
            key_facts=_union(self.key_facts, other.key_facts),
            optional_facts=self.optional_facts | other.optional_facts,
            dates=_union(self.dates, other.dates),
            results_clock=self.results_clock or other.results_clock,
            calendar=_union(self.calendar, other.calendar),
        )


def _union(first: tuple[_T, ...], second: tuple[_T, ...]) -> tuple[_T, ...]:
    return first + tuple(x for x in second if x not in first)


NO_WORDING = Wording()  # a source whose fields need no words (informational `_` fields only)
