"""Did a topic's search terms change since the last poll? One rule for every watcher that asks.

A watcher that trusts "nothing changed" (a 304, an unchanged data timestamp) must not trust it
for terms the last poll did not ask about: an alias added since is looked up at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from watchers.net.http import validators_in

__all__ = ["held_validators", "terms_digest"]


def terms_digest(*groups: Iterable[str]) -> str:
    """A short digest of the terms a poll asks about (names; trial ids; conditions ...)."""
    text = "\x00".join("\n".join(group) for group in groups)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def held_validators(meta: Mapping[str, str], url: str, key: str, digest: str) -> dict[str, str]:
    """`url`'s validators from the last poll, or none when it asked about other terms."""
    return validators_in(meta, url) if meta.get(key) == digest else {}
