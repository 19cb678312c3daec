"""Trial sites as stored values: identity (facility, city, state, country) plus recruitment status.

A site is one string in the `sites` field (a sorted tuple, so equality is stable); this module
is the one place that writes and reads that string, and words a site's recruitment changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from watchers.text.coerce import as_map, nonblank

__all__ = ["RECRUITING", "Site", "as_entries", "site_events", "site_lines", "sites_of"]

RECRUITING = "RECRUITING"
_SEP = " | "  # never inside a part: parts have it replaced (see _clean)
_PARTS = 5


def _clean(value: Any) -> str:
    text = nonblank(value)
    return " ".join(text.replace("|", "/").split()) if text else ""


@dataclass(frozen=True, order=True)
class Site:
    """One trial site: where it is and whether it recruits."""

    facility: str
    city: str
    state: str
    country: str
    status: str = ""  # the registry's RecruitmentStatus, "" when the record omits it

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """Facility, city, state and country: two same-named cities in two states differ."""
        return (self.facility, self.city, self.state, self.country)

    @property
    def label(self) -> str:
        """`Facility (City, Country)`, or the place alone for an unnamed site."""
        place = ", ".join(part for part in (self.city, self.country) if part)
        if not self.facility:
            return f"unnamed site ({place})" if place else "unnamed site"
        return f"{self.facility} ({place})" if place else self.facility

    def encode(self) -> str:
        """The stored form of this site."""
        return _SEP.join((*self.identity, self.status))

    @classmethod
    def decode(cls, entry: str) -> Site:
        """A stored site string back to a Site (a pre-status entry reads as status unknown)."""
        parts = entry.split(_SEP)
        parts += [""] * (_PARTS - len(parts))
        return cls(*parts[:_PARTS])


def sites_of(locations: Iterable[Any]) -> tuple[str, ...]:
    """The registry's `locations[]` as stored site strings, sorted, one per identity."""
    by_identity: dict[tuple[str, str, str, str], Site] = {}
    for raw in locations:
        item = as_map(raw)
        site = Site(
            _clean(item.get("facility")),
            _clean(item.get("city")),
            _clean(item.get("state")),
            _clean(item.get("country")),
            _clean(item.get("status")).upper(),
        )
        if any(site.identity):
            # A site listed twice keeps the first status that says something.
            kept = by_identity.get(site.identity)
            if kept is None or (not kept.status and site.status):
                by_identity[site.identity] = site
    return tuple(sorted(site.encode() for site in by_identity.values()))


def _status_words(status: str) -> str:
    return status.replace("_", " ").capitalize() if status else "status not given"


def site_events(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """What changed at each site, in words: recruiting starts and stops first."""
    old = {site.identity: site for site in map(Site.decode, before)}
    new = {site.identity: site for site in map(Site.decode, after)}
    starts, stops, others = [], [], []
    for identity in sorted(old.keys() | new.keys()):
        was, now = old.get(identity), new.get(identity)
        site = now or was
        assert site is not None  # the identity came from one of the two
        was_recruiting = was is not None and was.status == RECRUITING
        now_recruiting = now is not None and now.status == RECRUITING
        if now_recruiting and not was_recruiting:
            starts.append(f"Now recruiting: {site.label}" + ("" if was else " (new site)"))
        elif was_recruiting and not now_recruiting:
            why = f"now {_status_words(now.status)}" if now else "removed from the record"
            stops.append(f"No longer recruiting: {site.label} ({why})")
        elif was is None and now is not None:
            others.append(f"Site added: {site.label} ({_status_words(now.status)})")
        elif now is None:
            others.append(f"Site removed: {site.label}")
        elif was is not None and now is not None and was.status != now.status:
            others.append(
                f"Site status: {site.label}: "
                f"{_status_words(was.status)} → {_status_words(now.status)}"
            )
    return starts + stops + others


def site_lines(entries: Iterable[str]) -> list[str]:
    """Each site with its status, recruiting sites first."""
    sites = sorted(map(Site.decode, entries), key=lambda s: (s.status != RECRUITING, s.label))
    return [f"{site.label}: {_status_words(site.status)}" for site in sites]


def as_entries(value: object) -> tuple[str, ...]:
    """A stored field value as site entries (anything else reads as no sites)."""
    if isinstance(value, tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()
