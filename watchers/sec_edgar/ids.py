"""SEC EDGAR filings' source id and the constants its spec and its watcher share."""

from __future__ import annotations

import re

SOURCE = "sec_edgar"
# SEC allows 10 requests per second in total; a little under it leaves room for clock jitter.
MIN_INTERVAL = 0.125
# An address at a reserved example domain (RFC 2606) reaches nobody: SEC would refuse every
# request it signs. The one rule, for the config check and the watcher alike.
_PLACEHOLDER = re.compile(r"@(?:[\w-]+\.)*example(?:\.(?:com|org|net))?(?![\w.-])", re.IGNORECASE)


def is_placeholder_contact(contact: str) -> bool:
    """Is this the example config's contact (an e-mail at an RFC 2606 example domain)?"""
    return _PLACEHOLDER.search(contact) is not None
