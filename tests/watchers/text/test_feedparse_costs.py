"""Feed parsing does each piece of work once per item, and reads every encoding feedparser does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from watchers.model import ParseError
from watchers.text import feedparse, words
from watchers.text.feedparse import parse_feed

RSS_HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n'


def rss(*items: str) -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return RSS_HEAD + f'<rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[object]:
    """Calls of `owner.name` recorded (and still made)."""
    calls: list[object] = []
    real: Callable[..., Any] = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_a_guid_repeating_the_link_is_canonicalised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch, feedparse, "canonical_url")
    page = "HTTPS://News.example/a?utm_source=x"
    same = f"<link>{page}</link><guid>{page}</guid>"
    other = "<link>https://news.example/b</link><guid>https://News.example/b#top</guid>"
    first, second = parse_feed(rss(f"<title>A</title>{same}", f"<title>B</title>{other}"))
    assert (first.link, first.guid) == ("https://news.example/a", "https://news.example/a")
    assert (second.link, second.guid) == ("https://news.example/b", "https://news.example/b")
    assert len(calls) == 3  # one for the first item, two for the second


def test_a_relative_link_repeated_as_guid_is_read_against_the_base() -> None:
    [item] = parse_feed(
        rss("<title>A</title><link>/a</link><guid>/a</guid>"), base_url="https://x.example/f"
    )
    assert item.link == "https://x.example/a"
    assert item.guid == "/a"  # not a web address: kept as the feed wrote it


def test_plain_text_starts_no_html_parser_for_text_without_markup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = counting(monkeypatch, words._TextOnly, "__init__")
    assert words.plain_text(" two\n  lines\xa0here ") == "two lines here"
    assert started == []
    # Markup or an entity still goes through the parser, with the same result as ever.
    assert words.plain_text("a &amp; <b>b</b><p>c") == "a & b c"
    assert words.plain_text("x<script>hidden</script>") == "x"
    assert len(started) == 2


def test_a_document_in_a_multibyte_encoding_is_read() -> None:
    text = (
        '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>日本 ulefnersen</title><link>https://a.example/1</link></item>"
        "</channel></rss>"
    )
    [item] = parse_feed(text.encode("shift_jis"))
    assert item.title == "日本 ulefnersen"


def test_a_multibyte_document_declaring_entities_is_still_refused() -> None:
    text = (
        '<?xml version="1.0" encoding="big5"?><!DOCTYPE rss [<!ENTITY x "boom">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&x; 中文</title>'
        "<link>https://a.example/1</link></item></channel></rss>"
    )
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(text.encode("big5"))


def test_a_document_declaring_an_unknown_encoding_is_read_as_feedparser_reads_it() -> None:
    body = (
        '<?xml version="1.0" encoding="bogus"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>café</title><link>https://a.example/1</link></item></channel></rss>"
    ).encode()
    [item] = parse_feed(body)
    assert item.title == "café"
    declaring = body.replace(b"<rss", b'<!DOCTYPE rss [<!ENTITY x "boom">]><rss', 1)
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(declaring)
