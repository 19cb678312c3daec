"""Feed parsing (pure): real FDA quirks, empty and broken feeds, and hostile XML."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import pytest

from watchers.model import ParseError
from watchers.text.feedparse import parse_feed

FEEDS = Path(__file__).parents[2] / "fixtures" / "feeds"
RSS_HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n'


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def rss(*items: str) -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return RSS_HEAD + f'<rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def test_real_fda_drupal_feed_with_time_inside_pubdate() -> None:
    [item] = parse_feed(fixture("fda_drug_recalls_rss_2019_prof18.xml"))
    page = (
        "http://www.fda.gov/safety/recalls-market-withdrawals-safety-alerts/vivimed-life-sciences"
        "-pvt-ltd-issues-voluntary-nationwide-recall-losartan-potassium-25-mg-50-mg-and"
    )
    assert item.link == page  # the whitespace around it is gone
    assert item.guid == page
    assert item.key == page
    # The text of <time> ("Fri, 05/03/2019 - 15:21") has no zone; its datetime attribute does.
    assert item.published == datetime(2019, 5, 3, 19, 21, 28, tzinfo=UTC)
    assert item.title.startswith("Vivimed Life Sciences Pvt Ltd Issues Voluntary Nationwide Recall")
    assert "  " not in item.title and "\n" not in item.title
    assert item.summary.endswith("interim acceptable exposu")  # FDA truncates its teasers
    assert "Food & Drug Administration\u2019s" in item.summary


def test_rss_dates_become_utc() -> None:
    approval, roundup = parse_feed(fixture("fda_press_releases_rss.xml"))
    assert approval.published == datetime(2026, 7, 14, 21, 5, tzinfo=UTC)  # 17:05 -0400
    assert roundup.published == datetime(2026, 7, 10, 20, 30, tzinfo=UTC)
    assert approval.guid == approval.link


def test_item_without_guid_is_keyed_by_its_canonical_link() -> None:
    items = parse_feed(fixture("fda_press_releases_ulefnersen_derived.xml"))
    third = items[2]
    assert third.guid is None
    assert (
        third.key
        == third.link
        == ("https://www.fda.gov/news-events/press-announcements/fda-roundup-july-7-2026")
    )
    assert third.summary == ""  # <description />


def test_html_description_becomes_plain_text() -> None:
    _, item = parse_feed(fixture("ema_news_rss_ulefnersen_derived.xml"))
    assert "<" not in item.summary
    assert "for Ulefnersen Ionis (ulefnersen), an antisense" in item.summary


def test_markup_that_no_reader_sees_stays_out_of_the_text() -> None:
    # feedparser's own sanitizer is off (we keep text only): ours drops what a page hides.
    description = (
        "<![CDATA[<p>Ulefnersen <b>update</b></p><script>track('x')</script>"
        "<style>p {color: red}</style><applet>Java</applet><!-- note -->]]>"
    )
    [item] = parse_feed(
        rss(
            f"<title>T</title><link>https://x.test/1</link><description>{description}</description>"
        )
    )
    assert item.summary == "Ulefnersen update"


def test_atom_feed() -> None:
    [item] = parse_feed(fixture("company_ir_atom_synth.xml"))
    assert item.title == "Example Pharma receives positive CHMP opinion for ulefnersen"
    assert item.guid == "urn:uuid:6d0b5b7e-0000-4000-8000-000000000001"
    assert item.link == (
        "https://ir.example.com/news-releases/news-release-details/positive-chmp-opinion"
    )
    assert item.published == datetime(2026, 9, 22, 11, 0, tzinfo=UTC)
    assert item.summary == "Example Pharma today announced …"


def test_zero_items_is_a_valid_empty_feed() -> None:
    assert parse_feed(fixture("fda_medwatch_zero_items_derived.xml")) == []


def test_html_entity_in_a_title_is_read_not_refused() -> None:
    [item] = parse_feed(rss("<title>ION363&nbsp;update</title><link>https://x.org/1</link>"))
    assert item.title == "ION363 update"


def test_duplicate_and_unidentifiable_items() -> None:
    items = parse_feed(
        rss(
            "<title>first</title><guid>g1</guid>",
            "<title>again</title><guid>g1</guid>",
            "<title>no guid, no link</title>",
            "<title>relative</title><link>/news/x?utm_source=rss</link>",
        ),
        base_url="https://www.ema.europa.eu/en/news.xml",
    )
    assert [(i.title, i.key) for i in items] == [
        ("first", "g1"),
        ("relative", "https://www.ema.europa.eu/news/x"),
    ]


TRUNCATED = fixture("fda_press_releases_rss.xml")[:900]

BROKEN = {
    "html page with 200": (fixture("fda_access_denied_200_synth.html"), "expected an RSS or Atom"),
    "truncated xml": (TRUNCATED, "not a well-formed feed"),
    "empty body": (b"  \n", "got an empty body"),
    "json": (b'{"error": "gateway"}', "expected an RSS or Atom feed, got something else"),
    "plain text": (b"Service Unavailable", "got something else \\('Service Unavailable'\\)"),
}


@pytest.mark.parametrize(("body", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_unreadable_documents_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_feed(body, where="FDA press releases")
    assert str(caught.value).startswith("FDA press releases: ")
    assert caught.value.transient is False


# --- hostile XML (SYNTH documents) --------------------------------------------------------

LOLS = "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{LOLS}]>'
    '<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
    "<link>https://x.org/1</link></item></channel></rss>"
)


def external_entity(path: Path) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{path}">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>leak &xxe; here</title>'
        "<link>https://x.org/1</link></item></channel></rss>"
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text("root:SECRET-FROM-DISK:0:0\n")
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_entity_bomb_is_refused_before_parsing(encoding: str) -> None:
    body = BILLION_LAUGHS.replace('version="1.0"?', f'version="1.0" encoding="{encoding}"?')
    with pytest.raises(ParseError, match="declares XML entities; refused as unsafe"):
        parse_feed(body.encode(encoding))


def test_external_entity_is_refused_and_never_read(secret_file: Path) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(external_entity(secret_file).encode())
    assert "SECRET" not in str(caught.value)


def test_feedparser_alone_does_not_resolve_external_entities(secret_file: Path) -> None:
    # Defence in depth, should our refusal ever be bypassed: feedparser turns off external
    # general entities and strips unsafe declarations, so the file is never read.
    result = feedparser.parse(io.BytesIO(external_entity(secret_file).encode()))
    assert "SECRET" not in repr(result)


def test_a_body_spelling_a_local_path_is_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(b"/some/path") would open and parse that file; we hand it a stream.
    local = tmp_path / "local.xml"
    local.write_bytes(rss("<title>from the local disk</title><link>https://x.org/1</link>"))
    with pytest.raises(ParseError):
        parse_feed(str(local).encode())
