"""A stored world for the read outputs: FUSION (4 registry versions), a hostile news item,
then `extra` alerts bulk-inserted one minute apart (every 4th high, from PubMed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from state.schema import AlertRow
from state.store import Store
from tests.bot.test_dashboard import TOPIC, seed
from tests.factories import T0

__all__ = ["HOSTILE_XML", "TOPIC", "seed_world"]

HOSTILE_XML = 'Trial \x0b<b>halted</b> & ]]> "quoted"'


def seed_world(store: Store, extra: int, start: datetime = T0 + timedelta(days=3)) -> None:
    """The dashboard's seed, then `extra` alerts from `start` on."""
    seed(store)
    with Session(store.engine) as session:
        for n in range(extra):
            high = n % 4 == 0
            session.add(
                AlertRow(
                    created_at=start + timedelta(minutes=n),
                    kind="new",
                    topic=TOPIC.name,
                    source="pubmed" if high else "medrxiv",
                    key=f"PMID{n}",
                    title=f"{HOSTILE_XML} {n}",
                    url=f"https://pubmed.example/{n}",
                    severity="high" if high else "low",
                )
            )
        session.commit()
