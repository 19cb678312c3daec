"""Alias matching shared by every source: whole words, tolerant of hyphens and spaces.

`ION363` finds `ION363`, `ION-363`, `ION 363` and `ion363` but not `ION3630`; `FUS-ALS` finds
`FUS ALS`. One ambiguity guard: an alias written as an all-capitals word with no digits
(`FUSION`, `FUS`) is an acronym and matches only in capitals, so the trial acronym `FUSION`
does not fire on "fusion protein". Codes with digits (`ION363`) stay case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

__all__ = ["find_alias", "find_alias_in"]

# Hyphen-minus, the Unicode hyphens and dashes (U+2010..U+2015), minus sign, and whitespace.
_SEP_CHARS = r"\s\-\u2010-\u2015\u2212"
_SEP = f"[{_SEP_CHARS}]"
# An alias is read as runs of digits, runs of letters, and single other symbols; separators
# between them are not part of any token.
_TOKEN = re.compile(rf"\d+|[^\W\d_]+|[^\w{_SEP_CHARS}]|_")
_ACRONYM = re.compile(rf"[^\W\d_]{{2,}}(?:[{_SEP_CHARS}]+[^\W\d_]+)*")


def find_alias(text: str, names: Sequence[str]) -> str | None:
    """The first of `names` that occurs in `text` as a whole word, or None."""
    for name in names:
        pattern = _pattern(name)
        if pattern is not None and pattern.search(text):
            return name
    return None


def find_alias_in(texts: Iterable[str | None], names: Sequence[str]) -> str | None:
    """The first of `names` that occurs in any of `texts` (None entries are skipped)."""
    # Texts are searched one by one, not joined, so a two-word alias cannot straddle two fields.
    present = [text for text in texts if text]
    for name in names:
        pattern = _pattern(name)
        if pattern is not None and any(pattern.search(text) for text in present):
            return name
    return None


@lru_cache(maxsize=1024)
def _pattern(name: str) -> re.Pattern[str] | None:
    """Compile `name` once into a whole-word, separator-tolerant pattern (None if no tokens)."""
    tokens = list(_TOKEN.finditer(name.strip()))
    if not tokens:
        return None
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if index:
            previous = tokens[index - 1]
            parts.append(_joiner(name[previous.end() : token.start()], previous[0], token[0]))
        parts.append(re.escape(token[0]))
    first, last = tokens[0][0], tokens[-1][0]
    # Whole words only: no word character right before or after (ION363 vs ION3630).
    head = r"(?<!\w)" if re.match(r"\w", first) else ""
    tail = r"(?!\w)" if re.match(r"\w", last[-1]) else ""
    flags = 0 if _ACRONYM.fullmatch(name.strip()) and name.strip().isupper() else re.IGNORECASE
    return re.compile(head + "".join(parts) + tail, flags)


def _joiner(gap: str, before: str, after: str) -> str:
    """What may stand between two tokens in the text, given what stood between them in the alias."""
    words = before.isalpha() and after.isalpha()
    if gap and not gap.strip() and words:
        return f"{_SEP}+"  # "FUS ALS": two words stay two words (space or hyphen between)
    if gap or (before.isalnum() and after.isalnum()):
        return f"{_SEP}*"  # "ION363" ~ "ION-363" ~ "ION 363"; "FUS-ALS" ~ "FUS ALS"
    return ""  # a symbol written flush against its neighbour stays flush: "(R)", "C++"
