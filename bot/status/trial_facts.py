"""Pure readings of a stored trial's fields: how stale its verification is, its sites in brief."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from watchers.ctgov.sites import RECRUITING, Site, as_entries
from watchers.model import FieldValue

__all__ = ["VERIFIED_MONTHS", "months_between", "site_summary", "verification_note"]

# A sponsor re-verifies a record at least yearly; older than this, the status may be stale.
VERIFIED_MONTHS = 12
_SHOWN_SITES = 5


def months_between(year_month: str, now: datetime) -> int | None:
    """Whole months from a `YYYY-MM[-DD]` date to `now`, or None when it does not parse."""
    try:
        year, month = int(year_month[:4]), int(year_month[5:7])
    except ValueError:
        return None
    return (now.year - year) * 12 + now.month - month


def verification_note(fields: Mapping[str, FieldValue], now: datetime | None) -> str | None:
    """ "2025-08", flagged when the sponsor has not re-verified it for over 12 months."""
    verified = fields.get("status_verified")
    if not isinstance(verified, str) or not verified:
        return None
    months = months_between(verified, now) if now else None
    if months is not None and months > VERIFIED_MONTHS:
        return f"{verified}: NOT VERIFIED for {months} months (status may be out of date)"
    return verified


def site_summary(fields: Mapping[str, FieldValue]) -> str:
    """ "12 sites, 3 recruiting: A (City, Country); ..." (the first few recruiting sites named)."""
    sites = [Site.decode(entry) for entry in as_entries(fields.get("sites"))]
    if not sites:
        return "(none listed)"
    recruiting = sorted(site.label for site in sites if site.status == RECRUITING)
    text = f"{len(sites)} site{'s' if len(sites) != 1 else ''}, {len(recruiting)} recruiting"
    if recruiting:
        more = len(recruiting) - _SHOWN_SITES
        text += (
            ": " + "; ".join(recruiting[:_SHOWN_SITES]) + (f"; +{more} more" if more > 0 else "")
        )
    return text
