"""ClinicalTrials.gov's source id and the constants its spec and its watcher share."""

from __future__ import annotations

SOURCE = "clinicaltrials"
# The website's undocumented record-history API (docs/sources.md): NCT records only.
HISTORY_URL = "https://clinicaltrials.gov/api/int"
