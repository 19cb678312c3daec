"""The one rule for a ClinicalTrials.gov trial id (NCT number)."""

from __future__ import annotations

import re

__all__ = ["NCT_ID", "nct_id"]

# "NCT" and eight digits, as ClinicalTrials.gov assigns them (e.g. NCT04768972).
NCT_ID = re.compile(r"NCT\d{8}")


def nct_id(raw: str) -> str | None:
    """`raw` as a canonical NCT id (trimmed, upper-case), or None when it is not one."""
    candidate = raw.strip().upper()
    return candidate if NCT_ID.fullmatch(candidate) else None
