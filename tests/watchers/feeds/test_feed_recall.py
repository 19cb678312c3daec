"""Recall: feed items naming the topic only in their full text (or by a trial number) are kept.

The WordPress feed is REAL (tests/fixtures/feeds/README.md): a patient's blog whose posts name
the drugs of his clinical trials in the body, never in the headline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from state.fields import severity_for
from state.types import ChangeKind, Severity
from watchers.feeds.watcher import FeedWatcher, feed_observation
from watchers.model import Topic
from watchers.net.http import Http
from watchers.text.feedparse import FeedItem, parse_feed
from watchers.text.match import IN_HEADLINE, IN_TEXT, Mention, find_alias_in

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
WORDPRESS = "wordpress_content_encoded_seliger_2024.xml"
URL = "https://jakeseliger.com/feed/"
NO_SALT = "http://jakeseliger.com/?p=9023"
MORE = "http://jakeseliger.com/?p=8951"
LINKS = "http://jakeseliger.com/?p=8976"


def items() -> list[FeedItem]:
    return parse_feed(FEEDS.joinpath(WORDPRESS).read_bytes(), where="test", base_url=URL)


@pytest.fixture
def http() -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=0, sleep=lambda _s: None)


def poll(http: Http, topic: Topic, authority: str = "news") -> dict[str, Mention | None]:
    """What a feed watcher keeps of the WordPress feed for `topic`: key -> where named."""
    watcher = FeedWatcher(http, "The Story's Story", URL, authority)
    with respx.mock() as router:
        router.get(URL).respond(200, content=FEEDS.joinpath(WORDPRESS).read_bytes())
        result = watcher.poll(topic, {})
    return {
        o.key: Mention(
            str(o.matched_alias), str(o.fields["_matched_in"]), o.fields["_excerpt"] or None
        )
        for o in result.observations
    }


# (topic, keys of the items that name it, read by hand in the fixture)
RECALL = {
    "named only in one post's full text": (
        Topic("petosemtamab", aliases=("MCLA-158",)),
        {MORE},
    ),
    "generic name in one body, brand name in another": (
        Topic("pembrolizumab", aliases=("Keytruda", "MK-3475")),
        {MORE, LINKS},
    ),
    "named in the excerpt (<description>)": (Topic("PDL1V"), {MORE}),
}


@pytest.mark.parametrize(("topic", "naming"), RECALL.values(), ids=RECALL.keys())
def test_every_item_naming_the_topic_in_its_text_is_kept_with_an_excerpt(
    http: Http, topic: Topic, naming: set[str]
) -> None:
    kept = poll(http, topic)
    assert set(kept) == naming
    for mention in kept.values():
        assert mention is not None and mention.where == IN_TEXT
        assert mention.excerpt is not None
        assert len(mention.excerpt) <= 2 * 80 + len(mention.name) + 2
        assert mention.name.casefold() in mention.excerpt.casefold()


def test_before_full_text_matching_headline_and_excerpt_missed_three_of_four() -> None:
    # The rule of the previous version (title + <description> only), on the same items.
    found = {
        topic.name: {i.key for i in items() if find_alias_in([i.title, i.summary], topic.names)}
        for topic, _naming in RECALL.values()
    }
    assert found == {"petosemtamab": set(), "pembrolizumab": set(), "PDL1V": {MORE}}


def test_the_excerpt_quotes_the_words_around_the_name(http: Http) -> None:
    kept = poll(http, Topic("petosemtamab"))
    assert kept[MORE] == Mention(
        "petosemtamab",
        IN_TEXT,
        "…Every next step a potential dead end. I could\u2019ve had an allergic reaction "
        "Petosemtamab, the first study drug I took, and anaphylaxed back in September, "
        "dropping dead…",
    )


def test_a_name_in_a_longer_token_of_the_text_is_not_a_mention(http: Http) -> None:
    # Item 3 says "PD-L1" (another protein); item 2 says "PD-1" as a word of its own.
    assert set(poll(http, Topic("PD-1"))) == {MORE}


def test_the_headline_is_named_as_such(http: Http) -> None:
    assert poll(http, Topic("salt")) == {NO_SALT: Mention("salt", IN_HEADLINE, None)}


def test_full_text_is_plain_text() -> None:
    more = {i.key: i for i in items()}[MORE]
    assert more.content.startswith("i. Aren\u2019t we clever? Bess and I felt so very smart.")
    assert "<p>" not in more.content and "&#8217;" not in more.content
    assert "href" not in more.content  # link targets are not text a reader sees


TRIAL_TOPIC = Topic(
    "ulefnersen",
    aliases=("ION363",),
    trials=("NCT04768972",),
    eu_trials=("2020-005522-28", "2025-523333-26-00"),
)


def feed_with(body: str, title: str = "FDA Roundup: November 18, 2026") -> bytes:
    return f"""<?xml version="1.0"?><rss version="2.0"
xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<item><title>{title}</title><link>https://www.fda.gov/roundup</link>
<description>Today, the FDA announced:</description>
<content:encoded><![CDATA[<ul><li>{body}</li></ul>]]></content:encoded></item>
</channel></rss>""".encode()


# (the item's full text, what it is matched by, or None) - SYNTH items in the RSS 2.0 shape
TRIAL_NUMBERS = {
    "NCT id": ("Results of NCT04768972 were posted.", "NCT04768972"),
    "NCT id in lower case with a space": ("see nct 04768972 for details", "NCT04768972"),
    "EudraCT number": ("EudraCT 2020-005522-28 is complete.", "2020-005522-28"),
    "EudraCT number with en dashes": ("EudraCT 2020\u2013005522\u201328.", "2020-005522-28"),
    "CTIS number": ("CTIS 2025-523333-26-00 authorised.", "2025-523333-26-00"),
    "near-miss longer NCT id": ("NCT047689721 is another study.", None),
    "near-miss other NCT id": ("NCT04768973 is another study.", None),
    "near-miss CTIS number that starts like the EudraCT one": ("2020-005522-28-01", None),
    "near-miss digits inside a longer number": ("ref 12020-005522-28", None),
}


@pytest.mark.parametrize(("body", "expected"), TRIAL_NUMBERS.values(), ids=TRIAL_NUMBERS.keys())
def test_trial_numbers_name_the_topic(http: Http, body: str, expected: str | None) -> None:
    watcher = FeedWatcher(http, "FDA press releases", "https://www.fda.gov/rss.xml", "FDA")
    with respx.mock() as router:
        router.get("https://www.fda.gov/rss.xml").respond(200, content=feed_with(body))
        result = watcher.poll(TRIAL_TOPIC, {})
    assert [o.matched_alias for o in result.observations] == ([expected] if expected else [])


def test_a_trial_number_in_the_headline_is_named_in_the_headline(http: Http) -> None:
    watcher = FeedWatcher(http, "FDA press releases", "https://www.fda.gov/rss.xml", "FDA")
    with respx.mock() as router:
        router.get("https://www.fda.gov/rss.xml").respond(
            200, content=feed_with("nothing", title="Update on NCT04768972")
        )
        [obs] = watcher.poll(TRIAL_TOPIC, {}).observations
    assert (obs.matched_alias, obs.fields["_matched_in"]) == ("NCT04768972", IN_HEADLINE)


APPROVAL = FeedItem(
    title="FDA approves first treatment for SOD1-ALS",
    link="https://www.fda.gov/approval",
    guid=None,
    summary="",
    published=None,
    content="The agency approved ulefnersen for adults.",
)


@pytest.mark.parametrize(
    ("authority", "claim", "severity"),
    [
        ("FDA", "approval", Severity.HIGH),  # a regulator's headline, the drug in its body
        ("EMA", "approval", Severity.HIGH),
        ("company", None, Severity.NORMAL),  # not a claim about the topic, never high
        ("news", None, Severity.LOW),
    ],
)
def test_named_only_in_the_text_is_high_only_from_a_regulator(
    authority: str, claim: str | None, severity: Severity
) -> None:
    mention = Mention("ulefnersen", IN_TEXT, "The agency approved ulefnersen for adults.")
    obs = feed_observation(
        APPROVAL, TRIAL_TOPIC, source="feed:x", authority=authority, outlet="x", mention=mention
    )
    assert obs.fields["_claim"] == claim
    assert severity_for("feed:x", ChangeKind.NEW, obs.fields) is severity


def test_a_company_headline_naming_the_topic_keeps_its_claim() -> None:
    mention = Mention("ulefnersen", IN_HEADLINE)
    item = FeedItem("FDA approves ulefnersen", "https://x.example/a", None, "", None)
    obs = feed_observation(
        item, TRIAL_TOPIC, source="feed:x", authority="company", outlet="x", mention=mention
    )
    assert obs.fields["_claim"] == "approval"


def test_a_feed_without_description_has_a_plain_text_summary() -> None:
    # feedparser copies <content:encoded> into `summary` when there is no <description>.
    body = b"""<?xml version="1.0"?><rss version="2.0"
xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<item><title>Post</title><link>https://blog.example/p</link>
<content:encoded><![CDATA[<h4>Using <b>ION363</b> &amp; more</h4>]]></content:encoded></item>
</channel></rss>"""
    [item] = parse_feed(body)
    assert (item.summary, item.content) == ("Using ION363 & more", "Using ION363 & more")


def test_atom_content_is_read_as_text() -> None:
    # SYNTH: Atom 1.0 with an HTML <content> and a short <summary>.
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>IR</title><id>urn:x</id>
<updated>2026-11-18T09:00:00Z</updated>
<entry><title>Third quarter results</title><id>urn:x:1</id>
<link href="https://ir.example/q3"/><updated>2026-11-18T09:00:00Z</updated>
<summary>Revenue grew.</summary>
<content type="html">&lt;p&gt;Dosing of ION-363 completed.&lt;/p&gt;</content></entry></feed>"""
    [item] = parse_feed(body)
    assert (item.summary, item.content) == ("Revenue grew.", "Dosing of ION-363 completed.")
