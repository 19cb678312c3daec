"""The enrich step of a poll (pure): date moves counted, one alert per story, claim labels,
claim follow-ups; with its two rules: the claim check (which official record backs a claimed
regulatory action: its source's spec says) and "same story?" (token-set similarity).

Works on this poll's changes and the Evidence (its input type, declared here) that the load
step read (state/poll/load.py), which includes this poll's own official records, so a record
and a headline of the same poll meet. Changes to alerts stored earlier (another outlet named,
a claim confirmed later) are returned as values for the write step to apply.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz import fuzz

from state.fields import key_facts, source_label
from state.timeline import annotate_moves
from state.types import Change, ChangeKind
from watchers.model import FieldValue, Observation, RegistryVersion
from watchers.registry import find_spec
from watchers.spec import AUTHORITY_FIELD, Folding

__all__ = [
    "CLAIM_KINDS",
    "UNCONFIRMED",
    "EarlierAlert",
    "Enrichment",
    "Evidence",
    "claim_label",
    "confirming_record",
    "enrich",
    "folding_of",
    "is_news",
    "is_official",
    "same_story",
    "text_field",
]

_SUMMARY_CHARS = 300


@dataclass(frozen=True)
class EarlierAlert:
    """An alert stored by an earlier poll, with the item that told it (this topic's, if any)."""

    id: int
    source: str
    title: str
    url: str
    matched_alias: str | None
    also_reported_by: tuple[str, ...]
    told_by: Observation | None


@dataclass(frozen=True)
class Evidence:
    """What the database knows that enrichment of one poll needs."""

    stories: tuple[EarlierAlert, ...] = ()  # the topic's news alerts within the window
    # The first "new" alert (any topic) that linked to each of this poll's new items' links.
    by_url: dict[str, EarlierAlert] = field(default_factory=dict)
    official_records: tuple[Observation, ...] = ()  # this poll's included
    unconfirmed: tuple[tuple[EarlierAlert, str], ...] = ()  # (alert, claim kind)
    # Registry history of the trials whose dates the changes move ("3rd move, ...").
    histories: Mapping[str, Sequence[RegistryVersion]] = field(default_factory=dict)


def text_field(obs: Observation | None, name: str) -> str | None:
    """An informational field as text, or None when absent or empty."""
    value = obs.fields.get(name) if obs else None
    return str(value) if value else None


@dataclass
class Enrichment:
    """The alerts to store, and what changes on alerts stored earlier."""

    changes: list[Change]
    outlets: dict[int, tuple[str, ...]] = field(default_factory=dict)  # alert id -> also by
    claim_labels: dict[int, str] = field(default_factory=dict)  # alert id -> confirmed label


@dataclass
class _Story:
    """A story already told: an earlier alert, or a change kept earlier in this poll."""

    title: str
    url: str
    first: Observation  # the item that told it first
    matched_alias: str | None
    alert: EarlierAlert | None = None  # stored earlier
    index: int | None = None  # position in this poll's kept changes


def enrich(
    changes: Sequence[Change], observations: Iterable[Observation], evidence: Evidence
) -> Enrichment:
    """Date moves counted, repeats folded into earlier alerts, claims labelled, and
    follow-ups for earlier unconfirmed claims that an official record now confirms."""
    changes = annotate_moves(changes, evidence.histories)
    by_key = {obs.key: obs for obs in observations}
    out = Enrichment(changes=[])
    told = _Told(changes[0].topic if changes else "")
    for a in evidence.stories:
        if a.told_by is not None:
            told.add(_Story(a.title, a.url, a.told_by, a.matched_alias, a))
    kept = out.changes
    for change in changes:
        obs = by_key.get(change.key)
        if change.kind is not ChangeKind.NEW or obs is None:
            kept.append(change)
            continue
        story = _earlier_telling(evidence, told, change, obs)
        if story is not None:
            _add_outlet(story, out, _outlet(obs))
            continue
        kept.append(_describe_new(evidence, change, obs))
        if _is_news(obs):
            told.add(
                _Story(change.title, change.url, obs, change.matched_alias, index=len(kept) - 1)
            )
    unconfirmed = list(evidence.unconfirmed)
    for change in list(kept):
        obs = by_key.get(change.key)
        if (
            obs is not None
            and is_official(obs)
            and change.kind in (ChangeKind.NEW, ChangeKind.UPDATED)
        ):
            kept += _confirm_earlier_claims(unconfirmed, out, change, obs)
    return out


def _is_story(obs: Observation) -> bool:
    # A trial or a Drugs@FDA application keeps its URL across distinct events (a study back
    # in the registry, a new supplement): those never fold (Folding.NEVER in their spec).
    return folding_of(obs.source, obs.fields) is not Folding.NEVER


def _is_news(obs: Observation) -> bool:
    return folding_of(obs.source, obs.fields) is Folding.SAME_STORY


class _Told:
    """The stories told so far (earlier alerts, then this poll's), indexed by link and word,
    so an item is compared only with stories that could be the same (thousands per poll)."""

    def __init__(self, topic: str) -> None:
        self.stories: list[_Story] = []
        self._by_url: dict[str, _Story] = {}
        self._by_word: dict[str, list[int]] = defaultdict(list)
        self._topic_words = title_words(topic)  # every story about the topic has them

    def add(self, story: _Story) -> None:
        """One more story, after every earlier one."""
        index = len(self.stories)
        self.stories.append(story)
        if story.url:
            self._by_url.setdefault(story.url, story)
        for word in title_words(story.title) - self._topic_words:
            self._by_word[word].append(index)

    def with_url(self, url: str) -> _Story | None:
        """The first story told with this link."""
        return self._by_url.get(url)

    def sharing_words(self, title: str) -> list[_Story]:
        """The stories, in the order told, sharing enough words with `title` to be the same
        (same_story requires as many, topic words aside)."""
        hits = Counter(
            index
            for word in title_words(title) - self._topic_words
            for index in self._by_word.get(word, ())
        )
        return [self.stories[i] for i in sorted(hits) if hits[i] >= MIN_SHARED_WORDS]


def _earlier_telling(
    evidence: Evidence, told: _Told, change: Change, obs: Observation
) -> _Story | None:
    """The story this item retells: same link first (any topic, any time), then same news."""
    if not _is_story(obs):
        return None
    news = _is_news(obs)
    if change.url:
        story = told.with_url(change.url) if news else None
        if story is not None:
            return story
        earlier = evidence.by_url.get(change.url)
        if earlier is not None:
            first = earlier.told_by or obs
            return _Story(earlier.title, earlier.url, first, earlier.matched_alias, earlier)
    if not news:
        return None
    claim = text_field(obs, "_claim")
    for story in told.sharing_words(change.title):
        if text_field(story.first, "_claim") != claim:
            continue  # "approves" and "rejects" are never one story
        ignore = [n for n in (change.topic, change.matched_alias, story.matched_alias) if n]
        if same_story(story.title, change.title, ignore=ignore):
            return story
    return None


def _add_outlet(story: _Story, out: Enrichment, outlet: str) -> None:
    """Name another outlet on the story's alert (stored earlier, or kept in this poll)."""
    if story.alert is not None:
        alert = story.alert
        outlets = out.outlets.get(alert.id, alert.also_reported_by)
        if outlet not in outlets and outlet != source_label(alert.source):
            out.outlets[alert.id] = (*outlets, outlet)
    elif story.index is not None:
        change = out.changes[story.index]
        if outlet not in change.also_reported_by and outlet != _outlet(story.first):
            also = (*change.also_reported_by, outlet)
            out.changes[story.index] = replace(change, also_reported_by=also)


def _outlet(obs: Observation) -> str:
    outlet = obs.fields.get("_outlet")
    return str(outlet) if outlet else source_label(obs.source)


def _describe_new(evidence: Evidence, change: Change, obs: Observation) -> Change:
    """Name the outlet, add a short summary, and label any claimed regulatory action."""
    detail = change.detail
    summary = text_field(obs, "_summary")
    if _is_story(obs):
        parts = [_outlet(obs), summary[:_SUMMARY_CHARS] if summary else ""]
        detail = " — ".join(p for p in parts if p)
    elif detail is None:
        detail = key_facts(obs.fields)
    claim = text_field(obs, "_claim")
    label = None
    if claim and not is_official(obs):
        label = claim_label(claim, confirming_record(claim, evidence.official_records))
    # What the record itself is evidence of, as its watcher words it (a meeting notice is not
    # an approval; a filing is the company's own word).
    label = label or text_field(obs, "_claim_note")
    return replace(change, detail=detail or None, claim_label=label)


def _confirm_earlier_claims(
    unconfirmed: list[tuple[EarlierAlert, str]],
    out: Enrichment,
    change: Change,
    official: Observation,
) -> list[Change]:
    """One follow-up, in the original thread, for each earlier claim this record confirms."""
    follow_ups = []
    for parent, claim in list(unconfirmed):
        if confirming_record(claim, [official]) is None:
            continue
        unconfirmed.remove((parent, claim))  # said once
        label = claim_label(claim, official).replace("confirmed", "confirmed later", 1)
        out.claim_labels[parent.id] = label
        follow_ups.append(
            Change(
                kind=ChangeKind.CONFIRMED,
                topic=change.topic,
                source=official.source,
                key=official.key,
                title=f"Now confirmed: {parent.title}",
                url=official.url,
                severity=change.severity,
                detail=f"The claim is now backed by {describe_record(official)}.",
                thread_of=parent.id,
            )
        )
    return follow_ups


# The claim check: which records are official evidence, what each backs, how it is named.

UNCONFIRMED = "unconfirmed: no FDA/EMA record yet"
# Claim kinds as the watchers' claim detection writes them into the `_claim` field.
CLAIM_KINDS = (
    "approval",
    "marketing_authorisation",
    "chmp_positive",
    "chmp_negative",
    "rejection",
    "withdrawal",
)
_QUALIFIER = {
    "chmp_positive": " (a CHMP opinion, not a European Commission decision)",
    "chmp_negative": " (a CHMP opinion, not a European Commission decision)",
    "marketing_authorisation": " (European Commission decision)",
}


def is_official(obs: Observation) -> bool:
    """Whether an observation is official evidence for the claim check (not news about it)."""
    spec = find_spec(obs.source)
    return spec is not None and spec.for_fields(obs.fields).official_evidence


def confirming_record(claim: str, records: Iterable[Observation]) -> Observation | None:
    """The first official record that backs `claim`, or None."""
    for record in records:
        spec = find_spec(record.source)
        if spec is None:
            continue  # a source no longer registered proves nothing
        spec = spec.for_fields(record.fields)
        rule = spec.confirms.get(claim)
        if spec.official_evidence and rule is not None and rule(record.fields):
            return record
    return None


def describe_record(record: Observation) -> str:
    """A short, human name for an official record, e.g. `Drugs@FDA NDA215887:ORIG-1 (AP …)`."""
    spec = find_spec(record.source)
    if spec is not None and spec.describe is not None:
        return spec.describe(record)
    return f"{source_label(record.source)}: “{record.title}”"


def claim_label(claim: str, record: Observation | None) -> str:
    """The label an alert carries for a claimed regulatory action."""
    qualifier = _QUALIFIER.get(claim, "")
    if record is None:
        return UNCONFIRMED + qualifier
    return f"confirmed by {describe_record(record)}{qualifier}"


# Same story? The same news told by several outlets is one alert.

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
