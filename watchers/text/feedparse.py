"""RSS/Atom bytes -> normalized feed items (pure). feedparser reads BYTES here, never a URL.

Robust to what real feeds do (docs/sources.md#fda-feeds, #ema-feeds, #google-news): FDA's Drupal
`<pubDate>` wrapping a
`<time datetime=...>` element, whitespace around links and guids, empty `<description/>`,
zero items. An HTML page served with 200, truncated XML, or a DOCTYPE declaring entities is a
ParseError, never an empty feed. An item's full text (RSS `content:encoded`, Atom `content`) is
kept as plain text beside its summary, so a name written only in the body can be found.

XML safety is the parser's job, not a text scan's: feedparser's strict parser is defusedxml's
expat reader, which refuses every entity declaration (general, parameter, external) and every
external reference wherever the DOCTYPE sits (a comment before it once hid a bomb from a scan).
"""

from __future__ import annotations

import calendar
import io
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import defusedxml.sax
import feedparser  # type: ignore[import-untyped]
import feedparser.api  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden

from watchers.model import ParseError
from watchers.text.coerce import nonblank
from watchers.text.urls import canonical_url
from watchers.text.words import collapse, plain_text

__all__ = ["FeedItem", "parse_feed"]

_START_LEN = 40
# An item's full text beyond this is not read: names sit in the first pages of a press release.
CONTENT_LIMIT = 100_000

# feedparser's documented hook for its SAX driver (it asks xml.sax.make_parser for the first
# importable one): defusedxml's expat reader forbids entity declarations and external
# references. The loose fallback parser never expands declared entities.
feedparser.api.PREFERRED_XML_PARSERS = ["defusedxml.expatreader"]


@dataclass(frozen=True)
class FeedItem:
    """One feed entry: text collapsed, summary as plain text, links canonical, date in UTC."""

    title: str
    link: str | None
    guid: str | None
    summary: str
    published: datetime | None
    source_title: str | None = None  # the <source> element's text (Google News: the outlet)
    content: str = ""  # the full text (content:encoded, Atom content) as plain text

    @property
    def key(self) -> str | None:
        """The item's identity: its GUID if it has one, else its canonical link."""
        return self.guid or self.link


def parse_feed(body: bytes, where: str = "feed", base_url: str | None = None) -> list[FeedItem]:
    """Every usable item of an RSS/Atom document; ParseError if `body` is not a whole feed."""
    # `where` names the feed in errors; `base_url` resolves relative links (xml:base wins).
    if not body.strip():
        raise ParseError(f"{where}: expected an RSS or Atom feed, got an empty body")
    try:
        _read_prolog(body)
        # A file-like object, not bytes: given bytes that spell a path, feedparser opens that
        # local file and parses it instead (feedparser 6 `_open_resource`).
        parsed = feedparser.parse(
            io.BytesIO(body), resolve_relative_uris=False, sanitize_html=False
        )
    except DefusedXmlException as exc:  # a ValueError: feedparser lets it through
        raise ParseError(f"{where}: {_unsafe(exc)}; refused as unsafe") from None
    _check(parsed, body, where)
    items: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        item = _item(entry, base_url)
        if item is not None and item.key is not None:
            items.setdefault(item.key, item)  # a feed listing an item twice: keep the first
    return list(items.values())


class _PrologRead(Exception):
    """The root element has started: the DTD, if any, is behind us."""


class _StopAtRoot(xml.sax.handler.ContentHandler):
    def startElement(self, name: str, attrs: object) -> None:
        raise _PrologRead


def _read_prolog(body: bytes) -> None:
    """Run the untouched body's prolog through defusedxml: DefusedXmlException if unsafe.

    feedparser rewrites the DOCTYPE before its own parser sees it, silently dropping the
    declarations it deems unsafe; a document declaring any entity is refused whole instead.
    """
    # Well-formedness is feedparser's to judge (and ours, through its bozo flag).
    try:
        defusedxml.sax.parseString(body, _StopAtRoot())
    except DefusedXmlException:  # a ValueError too: the one outcome that refuses the feed
        raise
    except (_PrologRead, xml.sax.SAXException, ValueError, LookupError):
        # ValueError, LookupError: expat reads no multi-byte (Big5, Shift_JIS) or unknown
        # encoding; feedparser converts the document to UTF-8 first and its own defusedxml
        # reader refuses entities there.
        pass


def _unsafe(exc: DefusedXmlException) -> str:
    if isinstance(exc, EntitiesForbidden):
        return "the document declares XML entities"
    if isinstance(exc, DTDForbidden):
        return "the document has a DTD"
    return "the document refers to outside resources"


def _check(parsed: Any, body: bytes, where: str) -> None:
    if not parsed.get("version"):  # an HTML error page, JSON, plain text
        start = " ".join(body[:200].decode("utf-8", errors="replace").split())[:_START_LEN]
        raise ParseError(f"{where}: expected an RSS or Atom feed, got something else ({start!r})")
    error = parsed.get("bozo_exception")
    if error is not None and not _harmless(error):
        raise ParseError(f"{where}: not a well-formed feed ({_describe(error)})")


def _harmless(error: Exception) -> bool:
    """Bozo reasons that leave the feed whole: a wrong declared encoding, an HTML entity."""
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return True
    # `&nbsp;` and friends are undefined in XML; the fallback parser decodes them. Entities a
    # document declares itself are refused by the parser, so nothing else can be behind this.
    return isinstance(error, xml.sax.SAXParseException) and error.getMessage() == (
        "undefined entity"
    )


def _describe(error: Exception) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        return f"{error.getMessage()} at line {error.getLineNumber()}"
    return f"{type(error).__name__}: {error}"


def _item(entry: dict[str, Any], base_url: str | None) -> FeedItem | None:
    title = _text(entry.get("title_detail"), entry.get("title"))
    content = _content(entry.get("content"))
    # Without a <description>, feedparser copies the full text into `summary` as raw HTML,
    # with no type to say so: read it as the content it is.
    summary_detail = entry.get("summary_detail")
    if summary_detail is None and content and _is_copy_of_content(entry):
        summary = content
    else:
        summary = _text(summary_detail, entry.get("summary"))
    guid = nonblank(entry.get("id"))
    link = nonblank(entry.get("link"))
    if link is not None and entry.get("guidislink") and link == guid and not _is_web(link):
        link = None  # feedparser copies a non-URL guid into `link` when there is no <link>
    absolute = None
    if link is not None:
        absolute = urljoin(base_url, link) if base_url else link
        link = canonical_url(absolute)
    if guid is not None and _is_web(guid):
        # The same page however the feed spells its address; most repeat the link as the guid.
        guid = link if guid == absolute else canonical_url(guid)
    source = entry.get("source")
    source_title = nonblank(source.get("title")) if isinstance(source, Mapping) else None
    return FeedItem(
        title=title or summary[:120] or "(untitled)",
        link=link if link and _is_web(link) else None,
        guid=guid,
        summary=summary,
        published=_published(entry),
        source_title=collapse(source_title) if source_title else None,
        content=content,
    )


def _content(parts: Any) -> str:
    """Every full-text part of an entry as one plain text (HTML stripped, entities decoded)."""
    if not isinstance(parts, list):
        return ""
    texts = [_text(part, part.get("value")) for part in parts if isinstance(part, Mapping)]
    return " ".join(text for text in texts if text)[:CONTENT_LIMIT]


def _is_copy_of_content(entry: Mapping[str, Any]) -> bool:
    parts = entry.get("content")
    first = parts[0] if isinstance(parts, list) and parts else None
    return isinstance(first, Mapping) and first.get("value") == entry.get("summary")


def _text(detail: Any, value: Any) -> str:
    text = nonblank(value) or ""
    if isinstance(detail, Mapping) and "html" in str(detail.get("type", "")):
        return plain_text(text)
    return collapse(text)


def _published(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        # dict.get: feedparser's own lookup of a missing published_parsed warns (issue 310).
        parts = dict.get(entry, key)
        if parts:  # feedparser has already converted it to UTC
            return datetime.fromtimestamp(calendar.timegm(parts), UTC)
    # FDA's Drupal feeds put `<time datetime="2019-05-03T19:21:28Z">Fri, 05/03/2019 - 15:21
    # </time>` inside <pubDate>; the text has no zone, the attribute is exact
    # (docs/sources.md#fda-feeds).
    wrapped = dict.get(entry, "time")
    stamp = nonblank(wrapped.get("datetime")) if isinstance(wrapped, Mapping) else None
    if stamp is None:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")
