"""Before a poll's alerts are stored: one alert per story, claim labels, claim follow-ups.

Runs inside the poll's transaction (see Store.apply_poll), after the new snapshot is written,
so the official records of this very poll count as evidence. What it reads from the database
(earlier stories, known URLs, official records, unconfirmed claims) is read once per poll.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property

from sqlmodel import Session, col, select

from state.claims import UNCONFIRMED, claim_label, confirming_record, describe_record, is_official
from state.codec import observation_from_row
from state.fields import BOOKKEEPING_FIELDS, field_label, format_value, source_label
from state.source_sql import from_sources
from state.stories import folding_of, same_story
from state.tables import AlertRow, SnapshotRow
from state.types import Change, ChangeKind
from watchers.model import Observation
from watchers.registry import specs_where
from watchers.spec import Folding

__all__ = ["STORY_WINDOW", "enrich_changes"]

# Outlets retell a story over a day or two; later items are new stories.
STORY_WINDOW = timedelta(hours=48)
_SUMMARY_CHARS = 300


@dataclass
class _Story:
    """A story already told: an earlier alert, or a change kept earlier in this poll."""

    title: str
    url: str
    first: Observation  # the item that told it first
    matched_alias: str | None
    alert: AlertRow | None = None  # stored earlier
    index: int | None = None  # position in this poll's kept changes


def enrich_changes(
    session: Session,
    changes: Sequence[Change],
    observations: Iterable[Observation],
    at: datetime,
    *,
    window: timedelta = STORY_WINDOW,
) -> list[Change]:
    """The changes to store as alerts: repeats folded into earlier alerts, claims labelled,
    and follow-ups for earlier unconfirmed claims that an official record now confirms."""
    by_key = {obs.key: obs for obs in observations}
    evidence = _Evidence(session, changes[0].topic if changes else "", at - window)
    kept: list[Change] = []
    for change in changes:
        obs = by_key.get(change.key)
        if change.kind is not ChangeKind.NEW or obs is None:
            kept.append(change)
            continue
        story = _earlier_telling(evidence, change, obs)
        if story is not None:
            _add_outlet(story, kept, _outlet(obs))
            continue
        kept.append(_describe_new(evidence, change, obs))
        if _is_news(obs):
            evidence.stories.append(
                _Story(change.title, change.url, obs, change.matched_alias, index=len(kept) - 1)
            )
    for change in list(kept):
        obs = by_key.get(change.key)
        if (
            obs is not None
            and is_official(obs)
            and change.kind in (ChangeKind.NEW, ChangeKind.UPDATED)
        ):
            kept += _confirm_earlier_claims(evidence, change, obs)
    return kept


class _Evidence:
    """What the database already knows, read lazily and once per poll."""

    def __init__(self, session: Session, topic: str, since: datetime) -> None:
        self.session, self.topic, self.since = session, topic, since

    @cached_property
    def stories(self) -> list[_Story]:
        """News alerts of this topic within the window, with the items that told them."""
        alerts = self.session.exec(
            select(AlertRow)
            .where(
                AlertRow.topic == self.topic,
                AlertRow.kind == ChangeKind.NEW.value,
                col(AlertRow.created_at) >= self.since,
                from_sources(col(AlertRow.source), specs_where(folding=Folding.SAME_STORY)),
            )
            .order_by(col(AlertRow.id))
        ).all()
        told = self.observations({a.key for a in alerts})
        stories = []
        for alert in alerts:
            first = told.get((alert.source, alert.key))
            if first is not None and _is_news(first):
                stories.append(_Story(alert.title, alert.url, first, alert.matched_alias, alert))
        return stories

    def alert_with_url(self, url: str) -> AlertRow | None:
        """The first "new" alert of any topic that linked to `url`."""
        return self.session.exec(
            select(AlertRow)
            .where(AlertRow.url == url, AlertRow.kind == ChangeKind.NEW.value)
            .order_by(col(AlertRow.id))
            .limit(1)
        ).first()

    @cached_property
    def official_records(self) -> list[Observation]:
        """The topic's stored official records (sources whose spec says official evidence)."""
        rows = self.session.exec(
            select(SnapshotRow).where(
                SnapshotRow.topic == self.topic,
                col(SnapshotRow.removed_at).is_(None),
                from_sources(col(SnapshotRow.source), specs_where(official_evidence=True)),
            )
        ).all()
        return [
            r for r in (observation_from_row(row).observation for row in rows) if is_official(r)
        ]

    @cached_property
    def unconfirmed(self) -> list[tuple[AlertRow, str]]:
        """Earlier alerts whose claim no official record backed yet, with the claim kind."""
        alerts = self.session.exec(
            select(AlertRow)
            .where(
                AlertRow.topic == self.topic,
                col(AlertRow.claim_label).like(f"{UNCONFIRMED}%"),
            )
            .order_by(col(AlertRow.id))
        ).all()
        claimed = self.observations({a.key for a in alerts})
        pairs = [(a, _text(claimed.get((a.source, a.key)), "_claim")) for a in alerts]
        return [(alert, claim) for alert, claim in pairs if claim]

    def observations(self, keys: set[str]) -> dict[tuple[str, str], Observation]:
        """This topic's stored items with these keys, by (source, key)."""
        if not keys:
            return {}
        rows = self.session.exec(
            select(SnapshotRow).where(
                SnapshotRow.topic == self.topic, col(SnapshotRow.key).in_(sorted(keys))
            )
        ).all()
        return {(row.source, row.key): observation_from_row(row).observation for row in rows}


def _is_story(obs: Observation) -> bool:
    # A trial or a Drugs@FDA application keeps its URL across distinct events (a study back
    # in the registry, a new supplement): those never fold (Folding.NEVER in their spec).
    return folding_of(obs.source, obs.fields) is not Folding.NEVER


def _is_news(obs: Observation) -> bool:
    return folding_of(obs.source, obs.fields) is Folding.SAME_STORY


def _earlier_telling(evidence: _Evidence, change: Change, obs: Observation) -> _Story | None:
    """The story this item retells: same link first (any topic, any time), then same news."""
    if not _is_story(obs):
        return None
    stories = evidence.stories if _is_news(obs) else []
    if change.url:
        for story in stories:
            if story.url == change.url:
                return story
        earlier = evidence.alert_with_url(change.url)
        if earlier is not None:
            told = evidence.observations({earlier.key}).get((earlier.source, earlier.key))
            return _Story(earlier.title, earlier.url, told or obs, earlier.matched_alias, earlier)
    claim = _text(obs, "_claim")
    for story in stories:
        if _text(story.first, "_claim") != claim:
            continue  # "approves" and "rejects" are never one story
        ignore = [n for n in (change.topic, change.matched_alias, story.matched_alias) if n]
        if same_story(story.title, change.title, ignore=ignore):
            return story
    return None


def _add_outlet(story: _Story, kept: list[Change], outlet: str) -> None:
    """Name another outlet on the story's alert (stored earlier, or kept in this poll)."""
    if story.alert is not None:
        outlets = json.loads(story.alert.also_reported_by_json)
        first = source_label(story.alert.source)
        if outlet not in outlets and outlet != first:
            story.alert.also_reported_by_json = json.dumps([*outlets, outlet])  # row in session
    elif story.index is not None:
        change = kept[story.index]
        if outlet not in change.also_reported_by and outlet != _outlet(story.first):
            kept[story.index] = replace(change, also_reported_by=(*change.also_reported_by, outlet))


def _outlet(obs: Observation) -> str:
    outlet = obs.fields.get("_outlet")
    return str(outlet) if outlet else source_label(obs.source)


def _describe_new(evidence: _Evidence, change: Change, obs: Observation) -> Change:
    """Name the outlet, add a short summary, and label any claimed regulatory action."""
    detail = change.detail
    summary = _text(obs, "_summary")
    if _is_story(obs):
        parts = [_outlet(obs), summary[:_SUMMARY_CHARS] if summary else ""]
        detail = " — ".join(p for p in parts if p)
    elif detail is None:
        detail = _key_facts(obs)
    claim = _text(obs, "_claim")
    label = None
    if claim and not is_official(obs):
        label = claim_label(claim, confirming_record(claim, evidence.official_records))
    return replace(change, detail=detail or None, claim_label=label)


def _confirm_earlier_claims(
    evidence: _Evidence, change: Change, official: Observation
) -> list[Change]:
    """One follow-up, in the original thread, for each earlier claim this record confirms."""
    follow_ups = []
    for parent, claim in list(evidence.unconfirmed):
        if confirming_record(claim, [official]) is None:
            continue
        evidence.unconfirmed.remove((parent, claim))  # said once
        parent.claim_label = claim_label(claim, official).replace("confirmed", "confirmed later", 1)
        evidence.session.add(parent)
        assert parent.id is not None
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


def _key_facts(obs: Observation) -> str | None:
    """A new record's tracked fields in one line, so its first alert says what it is."""
    facts = []
    for name, value in obs.fields.items():
        if name.startswith("_") or name in BOOKKEEPING_FIELDS or value in (None, (), ""):
            continue
        if name == "locations" and isinstance(value, tuple):
            facts.append(f"{field_label(name)}: {len(value)}")
        elif name != "brief_title":
            facts.append(f"{field_label(name)}: {format_value(name, value)}")
    return "; ".join(facts) or None


def _text(obs: Observation | None, name: str) -> str | None:
    value = obs.fields.get(name) if obs else None
    return str(value) if value else None
