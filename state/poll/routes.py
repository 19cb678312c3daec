"""Where a poll's new alerts go: each destination's route, given to the store once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from state.types import Severity

__all__ = ["Destinations", "Route", "Routes", "as_route"]

_RANK = {Severity.LOW: 0, Severity.NORMAL: 1, Severity.HIGH: 2}


@dataclass(frozen=True)
class Route:
    """Where a topic's alerts go on one destination, and from which severity on."""

    channel: str | None = None
    min_severity: Severity = Severity.LOW

    def accepts(self, severity: Severity) -> bool:
        """Whether an alert of `severity` is delivered here."""
        return _RANK[severity] >= _RANK[self.min_severity]


# Where each new alert goes: destination name -> its route (a bare channel: every severity).
Destinations = Mapping[str, Route | str | None]


def as_route(value: Route | str | None) -> Route:
    """A destination's route; a bare channel (or None) accepts every severity."""
    return value if isinstance(value, Route) else Route(channel=value)


@dataclass(frozen=True)
class Routes:
    """Every topic's destinations; a topic not listed gets `default` (none: stored, not sent)."""

    by_topic: Mapping[str, Destinations] = field(default_factory=dict)
    default: Destinations = field(default_factory=dict)

    def of(self, topic: str) -> Destinations:
        """Where `topic`'s new alerts go."""
        return self.by_topic.get(topic, self.default)
