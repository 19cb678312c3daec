"""What a source is, declared once beside its watcher: the traits `state/` and `bot/` ask for."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from watchers.model import FieldValue, Observation
from watchers.wording import Wording

if TYPE_CHECKING:  # the spec names them; a spec module loads them only to build its watcher
    from watchers.base import Watcher
    from watchers.net.http import Http
    from watchers.settings import SourceSettings

__all__ = [
    "AUTHORITY_FIELD",
    "BuildContext",
    "ClaimRule",
    "FieldDelta",
    "Fields",
    "Folding",
    "RecordHistory",
    "Retention",
    "Severity",
    "SeverityRule",
    "SourceKind",
    "SourceSpec",
    "fixed_severity",
]

# The informational field in which a feed-like observation names who published it.
AUTHORITY_FIELD = "_authority"

Fields = Mapping[str, FieldValue]


class Severity(StrEnum):
    """How loudly an alert is told."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class SourceKind(Enum):
    """What a source's records are."""

    TRIAL_REGISTRY = "trial registry"  # a trial's own record (its id names the trial)
    REGULATOR_RECORD = "regulator record"  # an agency's database entry (Drugs@FDA, EMA)
    REGULATOR_FEED = "regulator feed"  # an agency's own announcements
    COMPANY = "company"  # a sponsor's own statements
    NEWS = "news"  # outlets retelling a story
    PAPER = "paper"  # literature


class Folding(Enum):
    """How a source's new items fold into an alert already told ("also reported by")."""

    NEVER = "never"  # a record keeps its URL across distinct events (a trial, an application)
    SAME_LINK = "same link"  # the same link is the same item; similar headlines are not
    SAME_STORY = "same story"  # same link, or a headline telling the same story


class Retention(Enum):
    """How long a source's snapshot rows live."""

    STATE = "state"  # a record with a state: kept for as long as the source has it
    EVENT = "event"  # a headline or paper: history once it drops out of the source


class FieldDelta(Protocol):
    """One tracked field's change, as a severity rule reads it."""

    @property
    def field(self) -> str: ...
    @property
    def before(self) -> FieldValue: ...
    @property
    def after(self) -> FieldValue: ...


# (is the record new?, its fields now, the tracked fields that changed) -> how loud.
SeverityRule = Callable[[bool, Fields, Sequence[FieldDelta]], Severity]


def fixed_severity(severity: Severity) -> SeverityRule:
    """A rule for sources whose every alert is equally loud (news, papers)."""

    def rule(new: bool, fields: Fields, changes: Sequence[FieldDelta]) -> Severity:
        return severity

    return rule


# Does this official record back a claimed regulatory action?
ClaimRule = Callable[[Fields], bool]


_MAX_SHARED_READ = 300.0


@dataclass(frozen=True)
class BuildContext:
    """What a watcher factory gets: the shared HTTP client, the secrets that are set, the
    clock (sources searched by publication date ask it for today's date) and the source's
    poll interval."""

    http: Http
    secrets: Mapping[str, str]  # Secrets field name (e.g. "ncbi_api_key") -> value
    clock: Callable[[], datetime]  # tz-aware UTC now, from the composition root
    interval: timedelta  # how often this source is polled (configured, else the spec's)
    monotonic: Callable[[], float] = time.monotonic  # for caches: immune to clock changes

    def today(self) -> date:
        """Today's date (UTC) by the injected clock."""
        return self.clock().astimezone(UTC).date()

    @property
    def shared_read_seconds(self) -> float:
        """How long the topics of one poll may share one read of the source."""
        # Half the interval, so the next poll (due one interval later, give or take 10%
        # jitter) always reads afresh: a longer cache would hide an item that comes and goes
        # between two reads. Five minutes at most: a poll's topics are read well within it.
        return min(_MAX_SHARED_READ, self.interval.total_seconds() / 2)


@dataclass(frozen=True)
class RecordHistory:
    """A source that serves its records' past versions: where, and which record ids have one."""

    default_url: str  # the history API's base URL when the configuration names none
    record_id: Callable[[str], str | None]  # a record key -> its id in that API, None: none


@dataclass(frozen=True)
class SourceSpec:
    """Everything about one source, in one place. Every trait is required: none defaults."""

    id: str  # the source id, or for `instances` the family prefix of `<id>:<name>`
    label: str
    kind: SourceKind
    official_evidence: bool  # its records can confirm a claimed regulatory action
    folding: Folding
    severity: SeverityRule
    confirms: Mapping[str, ClaimRule]  # claim kind -> which of its records back it
    describe: Callable[[Observation], str] | None  # a record's short name in a claim label
    wording: Wording  # its fields in people's words, and which fields mean what
    interval: timedelta  # default poll interval
    pacing: Mapping[str, timedelta]  # host -> minimum gap between two requests
    retention: Retention
    max_data_age: timedelta | None  # older data counts as stale; None: no freshness signal
    config_section: str  # the `[sources.<section>]` key
    instances: bool  # the section is a list; each entry is source `<id>:<entry.name>`
    settings: type[SourceSettings]  # the section's (or each entry's) keys, validated
    build: Callable[[Any, BuildContext], Watcher]  # (config section or entry, context)
    history: RecordHistory | None  # its records' version history; None: it serves none
    # For families whose entries declare an authority (feeds): the spec as it applies to
    # one authority. Family traits (label, interval, retention, ...) are shared by `replace`.
    by_authority: Mapping[str, SourceSpec] = field(default_factory=dict)

    def for_fields(self, fields: Fields) -> SourceSpec:
        """The spec that applies to one observation (feeds: by the authority it carries)."""
        authority = fields.get(AUTHORITY_FIELD)
        if self.by_authority and isinstance(authority, str):
            return self.by_authority.get(authority, self)
        return self

    def variant(self, **traits: Any) -> SourceSpec:
        """This family's spec as it applies to one authority: the traits that differ."""
        return replace(self, by_authority={}, **traits)

    def source_id(self, entry: Any) -> str:
        """The source id of a configured section (or, for `instances`, of one entry)."""
        return f"{self.id}:{entry.name}" if self.instances else self.id
