"""ClinicalTrials.gov's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

from pydantic import Field

from watchers.settings import Duration, HttpUrl, SourceSettings

__all__ = ["ClinicalTrialsSettings"]


class ClinicalTrialsSettings(SourceSettings):
    base_url: HttpUrl = "https://clinicaltrials.gov/api/v2"
    page_size: int = Field(default=100, ge=1, le=1000)
    # The website's own record-history API (undocumented; imported best effort, never alerts).
    # Unset: beside base_url on the same host (.../api/v2 -> .../api/int), so a mirror or a
    # test registry also serves the history.
    history_url: HttpUrl | None = None
    history: bool = True
    # The import's bounds per run: `check` never waits on it longer than history_deadline;
    # versions beyond history_max_versions per trial come in the next runs.
    history_deadline: Duration = Field(default=60.0, gt=0)
    history_request_deadline: Duration = Field(default=20.0, gt=0)
    history_max_versions: int = Field(default=20, ge=1)
    history_max_listed: int = Field(default=1000, ge=1)

    @property
    def history_base(self) -> str:
        """The history API's base URL (default https://clinicaltrials.gov/api/int)."""
        if self.history_url is not None:
            return str(self.history_url)
        base = str(self.base_url).rstrip("/")
        return (base.removesuffix("/v2") if base.endswith("/v2") else base) + "/int"
