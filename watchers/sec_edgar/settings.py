"""SEC EDGAR filings's configuration keys, validated (its spec names the section)."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator

from watchers.sec_edgar.ids import is_placeholder_contact
from watchers.settings import HttpUrl, SourceSettings

__all__ = ["SecEdgarSettings"]


class SecEdgarSettings(SourceSettings):
    base_url: HttpUrl = "https://efts.sec.gov/LATEST"
    # SEC refuses requests whose User-Agent names no organisation and contact (not a secret).
    contact: str | None = Field(default=None, validate_default=True)

    @field_validator("contact")
    @classmethod
    def _contactable(cls, contact: str | None, info: ValidationInfo) -> str | None:
        if not info.data.get("enabled", True):
            return contact
        if contact is None or not contact.strip():
            raise ValueError(
                "is required: SEC refuses requests without your organisation and a contact "
                'e-mail, e.g. contact = "Your Org ops@your-org.example"'
            )
        if not re.search(r"\S@\S+\.\S", contact):
            raise ValueError(
                'expected your organisation and a contact e-mail, e.g. "Your Org '
                'ops@your-org.example"'
            )
        if is_placeholder_contact(contact):
            raise ValueError(
                "is a placeholder (an example.* domain SEC cannot reach): put your organisation "
                "and a contact e-mail of yours, or remove [sources.sec_edgar]"
            )
        return " ".join(contact.split())
