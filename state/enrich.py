"""Before a poll's alerts are stored: one alert per story, claim labels, claim follow-ups.

Runs inside the poll's transaction (see Store.apply_poll), after the new snapshot is written,
so the official records of this very poll count as evidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from state.claims import UNCONFIRMED, claim_label, confirming_record, describe_record, is_official
from state.codec import observation_from_row
from state.fields import BOOKKEEPING_FIELDS, field_label, format_value, source_label
from state.stories import is_news, same_story
from state.tables import AlertRow, SnapshotRow
from state.types import Change, ChangeKind
from watchers.model import Observation

__all__ = ["STORY_WINDOW", "enrich_changes"]

# Outlets retell a story over a day or two; later items are new stories.
STORY_WINDOW = timedelta(hours=48)
_SUMMARY_CHARS = 300
_STORY_SOURCE_KINDS = frozenset({"feed", "google_news", "pubmed"})


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
    kept: list[Change] = []
    for change in changes:
        obs = by_key.get(change.key)
        if change.kind is not ChangeKind.NEW or obs is None:
            kept.append(change)
            continue
        if _fold_into_batch(kept, by_key, change, obs) or _fold_repeat(
            session, change, obs, at - window
        ):
            continue
        kept.append(_describe_new(session, change, obs))
    for change in list(kept):
        obs = by_key.get(change.key)
        if (
            obs is not None
            and is_official(obs)
            and change.kind in (ChangeKind.NEW, ChangeKind.UPDATED)
        ):
            kept += _confirm_earlier_claims(session, change, obs)
    return kept


def _outlet(obs: Observation) -> str:
    outlet = obs.fields.get("_outlet")
    return str(outlet) if outlet else source_label(obs.source)


def _fold_into_batch(
    kept: list[Change], by_key: dict[str, Observation], change: Change, obs: Observation
) -> bool:
    """Fold `change` into a story kept earlier in this same poll; True when folded."""
    if not is_news(obs.source, _text(obs, "_authority")):
        return False
    for index, earlier in enumerate(kept):
        first = by_key.get(earlier.key)
        if earlier.kind is not ChangeKind.NEW or first is None:
            continue
        if not is_news(first.source, _text(first, "_authority")):
            continue
        same_url = bool(change.url) and earlier.url == change.url
        ignore = [n for n in (change.topic, change.matched_alias, earlier.matched_alias) if n]
        if same_url or (
            _text(first, "_claim") == _text(obs, "_claim")
            and same_story(earlier.title, change.title, ignore=ignore)
        ):
            outlet = _outlet(obs)
            if outlet not in earlier.also_reported_by and outlet != _outlet(first):
                kept[index] = replace(earlier, also_reported_by=(*earlier.also_reported_by, outlet))
            return True
    return False


def _fold_repeat(session: Session, change: Change, obs: Observation, since: datetime) -> bool:
    """Fold `change` into an earlier alert of the same URL or story; True when folded."""
    earlier = None
    # Only items that are stories: a trial or a Drugs@FDA application keeps its URL across
    # distinct events (a study back in the registry, a new supplement).
    if change.url and obs.source.partition(":")[0] in _STORY_SOURCE_KINDS:
        earlier = session.exec(
            select(AlertRow)
            .where(AlertRow.url == change.url, AlertRow.kind == ChangeKind.NEW.value)
            .order_by(col(AlertRow.id))
            .limit(1)
        ).first()
    if earlier is None and is_news(obs.source, _text(obs, "_authority")):
        earlier = _same_story_alert(session, change, obs, since)
    if earlier is None:
        return False
    outlets = json.loads(earlier.also_reported_by_json)
    outlet = _outlet(obs)
    if outlet not in outlets and outlet != source_label(earlier.source):
        earlier.also_reported_by_json = json.dumps([*outlets, outlet])
        session.add(earlier)
    return True


def _same_story_alert(
    session: Session, change: Change, obs: Observation, since: datetime
) -> AlertRow | None:
    candidates = session.exec(
        select(AlertRow)
        .where(
            AlertRow.topic == change.topic,
            AlertRow.kind == ChangeKind.NEW.value,
            col(AlertRow.created_at) >= since,
            or_(col(AlertRow.source) == "google_news", col(AlertRow.source).like("feed:%")),
        )
        .order_by(col(AlertRow.id))
    ).all()
    claim = obs.fields.get("_claim")
    for candidate in candidates:
        earlier = _snapshot_observation(session, candidate)
        if earlier is None or not is_news(earlier.source, _text(earlier, "_authority")):
            continue
        if (earlier.fields.get("_claim") or None) != (claim or None):
            continue  # "approves" and "rejects" are never one story
        ignore = [n for n in (change.topic, change.matched_alias, candidate.matched_alias) if n]
        if same_story(candidate.title, change.title, ignore=ignore):
            return candidate
    return None


def _describe_new(session: Session, change: Change, obs: Observation) -> Change:
    """Name the outlet, add a short summary, and label any claimed regulatory action."""
    detail = change.detail
    summary = _text(obs, "_summary")
    if obs.source.partition(":")[0] in _STORY_SOURCE_KINDS:
        parts = [_outlet(obs), summary[:_SUMMARY_CHARS] if summary else ""]
        detail = " — ".join(p for p in parts if p)
    elif detail is None:
        detail = _key_facts(obs)
    claim = _text(obs, "_claim")
    label = None
    if claim and not is_official(obs):
        label = claim_label(claim, confirming_record(claim, _official_records(session, obs.topic)))
    return replace(change, detail=detail or None, claim_label=label)


def _confirm_earlier_claims(
    session: Session, change: Change, official: Observation
) -> list[Change]:
    """One follow-up, in the original thread, for each earlier claim this record confirms."""
    unconfirmed = session.exec(
        select(AlertRow)
        .where(
            AlertRow.topic == change.topic,
            col(AlertRow.claim_label).like(f"{UNCONFIRMED}%"),
        )
        .order_by(col(AlertRow.id))
    ).all()
    follow_ups = []
    for parent in unconfirmed:
        claimed = _snapshot_observation(session, parent)
        claim = _text(claimed, "_claim") if claimed else None
        if not claim or confirming_record(claim, [official]) is None:
            continue
        record = describe_record(official)
        parent.claim_label = claim_label(claim, official).replace("confirmed", "confirmed later", 1)
        session.add(parent)
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
                detail=f"The claim is now backed by {record}.",
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


def _official_records(session: Session, topic: str) -> list[Observation]:
    rows = session.exec(
        select(SnapshotRow).where(
            SnapshotRow.topic == topic,
            or_(
                col(SnapshotRow.source).in_(["openfda", "ema_medicines"]),
                col(SnapshotRow.source).like("feed:%"),
            ),
        )
    ).all()
    records = [observation_from_row(row).observation for row in rows if row.removed_at is None]
    return [r for r in records if is_official(r)]


def _snapshot_observation(session: Session, alert: AlertRow) -> Observation | None:
    row = session.exec(
        select(SnapshotRow).where(
            SnapshotRow.topic == alert.topic,
            SnapshotRow.source == alert.source,
            SnapshotRow.key == alert.key,
        )
    ).first()
    return observation_from_row(row).observation if row else None


def _text(obs: Observation | None, name: str) -> str | None:
    value = obs.fields.get(name) if obs else None
    return str(value) if value else None
