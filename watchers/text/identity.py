"""Stable keys for items whose GUID and link change on every fetch (session ids, trackers).

A feed item is keyed by its GUID, else its canonical link. Some publishers rotate both on each
fetch, and every poll would then see a "new" item. So each poll remembers, in its meta, the key
it gave each item's content fingerprint (normalised title + publication day + feed); an item
with an unknown key but a known fingerprint keeps the key it had.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from watchers.model import Observation

__all__ = ["FINGERPRINTS_KEY", "fingerprint", "settle_keys"]

FINGERPRINTS_KEY = "fingerprints"
# Fingerprints remembered per (topic, feed): this poll's items, then older ones up to the cap,
# so an item that drops out of the feed for a poll or two still keeps its key.
_REMEMBERED = 500
_NOT_WORD = re.compile(r"[\W_]+")


def fingerprint(observation: Observation) -> str | None:
    """The item's content identity, or None without a date (a bare title is not unique)."""
    if observation.published is None:
        return None
    title = _NOT_WORD.sub(" ", observation.title.casefold()).strip()
    if not title:
        return None
    day = observation.published.date().isoformat()
    text = f"{observation.source}\n{day}\n{title}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def settle_keys(
    observations: Sequence[Observation], meta: Mapping[str, str]
) -> tuple[tuple[Observation, ...], dict[str, str]]:
    """The observations with churned keys put back, and the meta entry to keep for next time."""
    known = _load(meta.get(FINGERPRINTS_KEY))
    prints = [fingerprint(o) for o in observations]
    counts = Counter(p for p in prints if p is not None)
    own_keys = {o.key for o in observations}
    settled: list[Observation] = []
    current: dict[str, str] = {}
    for observation, print_ in zip(observations, prints, strict=True):
        if print_ is None or counts[print_] > 1:  # two items alike in this poll: ambiguous
            settled.append(observation)
            continue
        key = known.get(print_, observation.key)
        # Never take a key another item of this poll holds as its own.
        if key != observation.key and key not in own_keys:
            observation = replace(observation, key=key)
        current[print_] = observation.key
        settled.append(observation)
    for print_, key in known.items():
        if len(current) >= _REMEMBERED:
            break
        current.setdefault(print_, key)
    return tuple(settled), {FINGERPRINTS_KEY: json.dumps(current, separators=(",", ":"))}


def _load(text: str | None) -> dict[str, str]:
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:  # a damaged entry costs at most one poll's memory, never the poll
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}
