"""Alias matching shared by every source: whole words, tolerant of hyphens and spaces.

`ION363` finds `ION363`, `ION-363`, `ION 363` and `ion363` but not `ION3630`; `FUS-ALS` finds
`FUS ALS`. One ambiguity guard: an alias written as an all-capitals word with no digits
(`FUSION`, `FUS`) is an acronym and matches only in capitals, so the trial acronym `FUSION`
does not fire on "fusion protein". Codes with digits (`ION363`) stay case-insensitive.

`find_mention` looks for a whole topic (its names, then its trial numbers) in a headline and
then in the item's text. Text is held to a stricter rule: the name must be a token of its own,
so `ION363-CS1` or `anti-ulefnersen` in a body paragraph are other words, not mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from watchers.model import Topic
from watchers.text.trial_ids import nct_id

__all__ = [
    "IN_HEADLINE",
    "IN_TEXT",
    "Mention",
    "excerpt",
    "find_alias",
    "find_alias_in",
    "find_mention",
    "find_trial_id",
]

IN_HEADLINE = "headline"
IN_TEXT = "text"
EXCERPT_CONTEXT = 80  # characters kept on each side of a name found in an item's text

# Hyphen-minus, the Unicode hyphens and dashes (U+2010..U+2015), minus sign, and whitespace.
_SEP_CHARS = r"\s\-\u2010-\u2015\u2212"
_SEP = f"[{_SEP_CHARS}]"
# An alias is read as runs of digits, runs of letters, and single other symbols; separators
# between them are not part of any token.
_TOKEN = re.compile(rf"\d+|[^\W\d_]+|[^\w{_SEP_CHARS}]|_")
_ACRONYM = re.compile(rf"[^\W\d_]{{2,}}(?:[{_SEP_CHARS}]+[^\W\d_]+)*")
# Hyphens join words into one token ("ION363-CS1", "PD-L1"); en and em dashes are punctuation.
_JOINERS = "\\-\u2010\u2011"
_TOKEN_START = rf"(?<!\w)(?<!\w[{_JOINERS}])"
_TOKEN_END = rf"(?!\w)(?![{_JOINERS}]\w)"
_EU_ID = re.compile(r"(\d{4})-(\d{6})-(\d{2})(?:-(\d{2}))?")
_DASHES = "\\-\u2010-\u2015\u2212"


@dataclass(frozen=True)
class Mention:
    """Where an item names a topic: which name (or trial number), and in what part."""

    name: str
    where: str  # IN_HEADLINE or IN_TEXT
    excerpt: str | None = None  # the words around the name, when it is in the text


def find_mention(
    topic: Topic, headline: str | None, texts: Iterable[str | None] = ()
) -> Mention | None:
    """How `headline`, else any of `texts` (summary, full text), names `topic`; None if not.

    Names are tried before trial numbers, and the headline before the text; each text is
    searched on its own, so a name cannot straddle two fields.
    """
    if headline:
        name = find_alias(headline, topic.names) or find_trial_id(headline, topic.trial_ids)
        if name is not None:
            return Mention(name, IN_HEADLINE)
    present = [text for text in texts if text]
    candidates = [(name, _pattern(name, strict=True)) for name in topic.names]
    candidates += [(trial, _id_pattern(trial)) for trial in topic.trial_ids]
    for name, pattern in candidates:
        for text in present:
            found = pattern.search(text) if pattern is not None else None
            if found is not None:
                return Mention(name, IN_TEXT, excerpt(text, found.start(), found.end()))
    return None


def find_trial_id(text: str, trial_ids: Sequence[str]) -> str | None:
    """The first of `trial_ids` (NCT, EudraCT or CTIS numbers) written in `text`, or None."""
    for trial in trial_ids:
        pattern = _id_pattern(trial)
        if pattern is not None and pattern.search(text):
            return trial
    return None


def excerpt(text: str, start: int, end: int, context: int = EXCERPT_CONTEXT) -> str:
    """`text[start:end]` with about `context` characters each side, cut at words, `…` at cuts."""
    left, right = max(0, start - context), min(len(text), end + context)
    head, tail = text[left:start], text[end:right]
    if left > 0 and not text[left - 1].isspace() and " " in head:
        head = head.split(" ", 1)[1]  # drop the word the cut went through
    if right < len(text) and not text[right].isspace() and " " in tail:
        tail = tail.rsplit(" ", 1)[0]
    body = " ".join(f"{head}{text[start:end]}{tail}".split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


def find_alias(text: str, names: Sequence[str]) -> str | None:
    """The first of `names` that occurs in `text` as a whole word, or None."""
    for name in names:
        pattern = _pattern(name, strict=False)
        if pattern is not None and pattern.search(text):
            return name
    return None


def find_alias_in(texts: Iterable[str | None], names: Sequence[str]) -> str | None:
    """The first of `names` that occurs in any of `texts` (None entries are skipped)."""
    # Texts are searched one by one, not joined, so a two-word alias cannot straddle two fields.
    present = [text for text in texts if text]
    for name in names:
        pattern = _pattern(name, strict=False)
        if pattern is not None and any(pattern.search(text) for text in present):
            return name
    return None


@lru_cache(maxsize=1024)
def _pattern(name: str, *, strict: bool) -> re.Pattern[str] | None:
    """Compile `name` once into a whole-word, separator-tolerant pattern (None if no tokens).

    `strict` (for body text) also refuses a name joined by a hyphen to a longer token.
    """
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
    head = (_TOKEN_START if strict else r"(?<!\w)") if re.match(r"\w", first) else ""
    tail = (_TOKEN_END if strict else r"(?!\w)") if re.match(r"\w", last[-1]) else ""
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


@lru_cache(maxsize=256)
def _id_pattern(trial: str) -> re.Pattern[str] | None:
    """A registry number as written in prose: `NCT04768972` (or `NCT 04768972`), or an EU
    number with any dash between its parts; never the start of a longer number."""
    trial = trial.strip()
    if nct := nct_id(trial):
        body = rf"NCT[\s{_DASHES}]?{nct[3:]}"
    elif eu := _EU_ID.fullmatch(trial):
        body = f"[{_DASHES}]".join(part for part in eu.groups() if part is not None)
    else:
        return None
    # An EudraCT number followed by `-NN` is a CTIS number, another trial.
    return re.compile(rf"(?<![\w{_DASHES}]){body}(?!\w)(?![{_DASHES}]\d)", re.IGNORECASE)
