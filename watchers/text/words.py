"""Text of news and feed items: HTML to plain text, clipping, and safety-communication wording."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["SUMMARY_LIMIT", "clip", "collapse", "is_safety_title", "plain_text"]

SUMMARY_LIMIT = 500
# Headlines that announce a safety communication rather than news about a programme.
_SAFETY = re.compile(
    r"\b(?:safety\s+communications?|drug\s+safety|recalls?|recalled|recalling|"
    r"boxed\s+warnings?)\b",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
# Elements whose text is never part of what a reader sees.
_HIDDEN = frozenset({"applet", "script", "style", "head", "title", "template"})
# Elements that separate words when a page is rendered.
_BREAKS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "td", "h1", "h2", "h3", "h4"})


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def collapse(text: str) -> str:
    """Runs of whitespace (incl. no-break spaces and newlines) as one space, trimmed."""
    return _SPACE.sub(" ", text.replace("\xa0", " ")).strip()


def plain_text(html: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    if "<" not in html and "&" not in html:
        return collapse(html)  # no tag, no entity: what the parser would give back, unparsed
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return collapse("".join(parser.parts))


def clip(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` cut to at most `limit` characters, at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def is_safety_title(title: str) -> bool:
    """Whether a headline announces a safety communication, recall or boxed warning."""
    return _SAFETY.search(title) is not None
