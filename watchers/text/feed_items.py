"""A feed item as an observation, and the matching rules' version: shared by RSS feeds and news."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watchers.model import FieldValue, Observation, Topic, freeze_fields
from watchers.text.match import IN_TEXT, Mention
from watchers.text.words import clip, is_safety_title

if TYPE_CHECKING:  # the RSS spec reads OFFICIAL: asking the registry loads no feed parser
    from watchers.text.feedparse import FeedItem

__all__ = [
    "OFFICIAL",
    "RULES",
    "RULES_KEY",
    "feed_observation",
]

OFFICIAL = ("FDA", "EMA")  # the agencies whose own feeds are official evidence
# Which rules matched and keyed the stored items: bump it when matching (what names an item)
# or identity (canonical links, fingerprints) changes, so the first full read after an upgrade
# adopts items it merely re-finds instead of alerting them as new (SourceResult.rules_changed).
# 2: full text and trial numbers matched; session parameters stripped from links.
RULES_KEY = "rules"
RULES = "2"


def feed_observation(
    item: FeedItem,
    topic: Topic,
    *,
    source: str,
    authority: str,
    outlet: str,
    safety: bool = False,
    mention: Mention | None = None,
    fallback_url: str = "",
    title: str | None = None,
    summary: str | None = None,
) -> Observation:
    """A feed item as an Observation: informational `_` fields only, so it alerts once."""
    # `title` and `summary` replace the item's own (Google News splits the outlet off).
    headline = title if title is not None else item.title
    # Headlines make claims; an agency's own summary is its word too ("EMA has recommended
    # granting..."), but a news teaser is not, so only official summaries are read for claims.
    official = authority in OFFICIAL
    from watchers.text.claims import detect_claim  # its patterns: only when items came

    claim = detect_claim(headline)
    if claim is None and official:
        claim = detect_claim(item.summary)
    # A headline that does not name the topic claims something about another subject, unless
    # a regulator wrote it ("FDA approves treatment for SOD1-ALS" names the drug in its body).
    if mention is not None and mention.where == IN_TEXT and not official:
        claim = None
    guid_url = item.guid if item.guid and item.guid.startswith(("http://", "https://")) else None
    fields: dict[str, FieldValue] = {
        "_authority": authority,
        "_outlet": outlet,
        "_summary": clip(item.summary if summary is None else summary) or None,
        "_claim": claim.kind.value if claim else None,
        "_regulator": claim.regulator if claim else None,
        "_safety": safety or is_safety_title(headline),
        # Where the topic is named: severity reads it; the alert quotes the excerpt.
        "_matched_in": mention.where if mention else None,
        "_excerpt": mention.excerpt if mention else None,
    }
    return Observation(
        source=source,
        key=item.key or fallback_url,
        topic=topic.name,
        title=headline,
        url=item.link or guid_url or fallback_url,
        fields=freeze_fields(fields),
        published=item.published,
        matched_alias=mention.name if mention else None,
    )
