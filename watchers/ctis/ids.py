"""EU CTIS's source id and the constants its spec and its watcher share."""

from __future__ import annotations

SOURCE = "ctis"
# `ctPublicStatusCode` in words (ctrdata's table; the recorded record agrees that 1 is
# "Under evaluation").
STATUS_WORDS = {
    1: "Under evaluation",
    2: "Authorised, recruitment pending",
    3: "Authorised, recruiting",
    4: "Ongoing, recruiting",
    5: "Ongoing, recruitment ended",
    6: "Temporarily halted",
    7: "Suspended",
    8: "Ended",
    9: "Expired",
    10: "Revoked",
    11: "Not authorised",
    12: "Cancelled",
}
# Halted, suspended, revoked, not authorised: a clinical team must hear of these first.
HIGH_STATUS_CODES = frozenset({6, 7, 10, 11})
