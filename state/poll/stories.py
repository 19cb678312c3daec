"""One alert per story: recognise the same news story told by several outlets (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from rapidfuzz import fuzz

from watchers.model import FieldValue
from watchers.registry import find_spec
from watchers.spec import AUTHORITY_FIELD, Folding

__all__ = [
    "MIN_SHARED_WORDS",
    "folding_of",
    "is_news",
    "normalize_title",
    "same_story",
    "title_words",
]


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {"a", "an", "the", "of", "in", "on", "for", "to", "and", "or", "with", "by", "at", "as"}
    | {"from", "its", "it", "is", "are", "be", "has", "have", "new", "after", "over", "into"}
    | {"says", "said"}
)
# Light stemming so "approves", "approved" and "approval" meet; enough for headlines.
_SUFFIXES = ("ations", "ation", "ings", "ing", "als", "al", "es", "ed", "s")
MIN_SHARED_WORDS = 3
_THRESHOLD = 70.0


def folding_of(source: str, fields: Mapping[str, FieldValue]) -> Folding:
    """How an item of `source` folds into earlier alerts, by its spec (unknown: never)."""
    spec = find_spec(source)
    return spec.for_fields(fields).folding if spec is not None else Folding.NEVER


def is_news(source: str, authority: str | None) -> bool:
    """Whether an item from `source` is a retellable story rather than an official record."""
    return folding_of(source, {AUTHORITY_FIELD: authority}) is Folding.SAME_STORY


def _stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


@lru_cache(maxsize=16384)  # a poll compares each headline with many: normalize it once
def normalize_title(title: str) -> str:
    """Lower-case, accents and punctuation dropped, possessives and stop words removed, stemmed."""
    text = title.replace("\u2019", "'") + " "  # typographic apostrophe, then possessives
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace("'s ", " ").replace("' ", " ")
    tokens = [_stem(t) for t in _WORD.findall(text) if t not in _STOP]
    return " ".join(tokens)


def title_words(title: str) -> frozenset[str]:
    """The normalized words of a headline."""
    return frozenset(normalize_title(title).split())


def same_story(
    a: str, b: str, *, ignore: Iterable[str] = (), threshold: float = _THRESHOLD
) -> bool:
    """Whether two headlines tell the same story (token-set similarity on normalized titles).

    Words of `ignore` (the topic's names: every story about the topic has them) are left out,
    and at least three other meaningful words must be shared: short headlines meet by chance.
    """
    ignored = {token for name in ignore for token in normalize_title(name).split()}
    left = " ".join(t for t in normalize_title(a).split() if t not in ignored)
    right = " ".join(t for t in normalize_title(b).split() if t not in ignored)
    shared = set(left.split()) & set(right.split())
    if len(shared) < MIN_SHARED_WORDS:
        return False
    return fuzz.token_set_ratio(left, right) >= threshold and fuzz.token_sort_ratio(
        left, right
    ) >= (threshold - 25)
