"""A search page read one study at a time: never the whole page as a JSON tree.

A page of 1,000 studies is ~5 MB of JSON but ~18 MB decoded, and the watcher keeps only each
study's Observation: so the page is walked with the C decoder one study at a time, and each
study's tree is garbage once it is parsed (docs/sources.md#clinicaltrialsgov).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator, Mapping
from typing import Any

import httpx

from watchers.model import ParseError
from watchers.net.responses import decode_json
from watchers.text.coerce import kind_name

__all__ = ["PageReader", "page_of"]

_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, exactly
_DECODER = json.JSONDecoder()


class PageReader:
    """A search page's studies, decoded as they are asked for; then its nextPageToken."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.token: str | None = None  # set once `studies` is exhausted

    def studies(self) -> Iterator[Mapping[str, Any]]:
        """Each study of the page, in order. A page that is not JSON, or not a search page, is
        the ParseError decoding it whole gives."""
        body = self._response.content
        text = body.decode(json.detect_encoding(body), "surrogatepass")
        try:
            yield from self._walk(text)
        except (ValueError, IndexError):  # not JSON (an HTML error page...), or an odd layout
            page_of(decode_json(self._response))
            raise ParseError("ClinicalTrials.gov search page: unexpected JSON layout") from None

    def _walk(self, text: str) -> Iterator[Mapping[str, Any]]:
        at = _expect(text, 0, "{")
        keys: list[str] = []
        listed = False
        while text[at] != "}" or keys:  # after a comma, a key must follow
            key, at = _DECODER.raw_decode(text, at)
            if not isinstance(key, str):
                raise ValueError(f"a key that is not a string at {at}")
            keys.append(key)
            at = _expect(text, at, ":")
            if key == "studies" and text[at] == "[":
                listed = True
                at = yield from _elements(text, at)
            else:
                value, at = _DECODER.raw_decode(text, at)
                if key == "nextPageToken":
                    self.token = value if isinstance(value, str) and value else None
            at = _skip(text, at)
            if text[at] == "}":
                break
            at = _expect(text, at, ",")
        if _skip(text, at + 1) != len(text):
            raise ValueError("data after the page")
        if not listed:
            raise ParseError(
                f"ClinicalTrials.gov search page has no 'studies' list (keys: {sorted(keys)})"
            )


def _elements(text: str, at: int) -> Generator[Mapping[str, Any], None, int]:
    """Each study of the array opening at `at`; returns the index after the array."""
    at = _expect(text, at, "[")
    index = 0
    while text[at] != "]" or index:  # after a comma, a study must follow
        study, at = _DECODER.raw_decode(text, at)
        if not isinstance(study, Mapping):
            raise ParseError(f"ClinicalTrials.gov search result {index} is not a JSON object")
        yield study
        del study  # parsed: its tree goes before the next one is decoded
        index += 1
        at = _skip(text, at)
        if text[at] == "]":
            break
        at = _expect(text, at, ",")
    return at + 1


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    assert match is not None  # `*` matches the empty string
    return match.end()


def _expect(text: str, at: int, char: str) -> int:
    """The index after `char` at `at` and the whitespace around it."""
    at = _skip(text, at)
    if text[at] != char:
        raise ValueError(f"expected {char!r} at {at}")
    return _skip(text, at + 1)


def page_of(doc: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    """A decoded search page's studies and its nextPageToken (None on the last page)."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"ClinicalTrials.gov search page is not a JSON object: {kind_name(doc)}")
    studies = doc.get("studies")
    if not isinstance(studies, list):
        raise ParseError(
            f"ClinicalTrials.gov search page has no 'studies' list (keys: {sorted(doc)})"
        )
    for index, study in enumerate(studies):
        if not isinstance(study, Mapping):
            raise ParseError(f"ClinicalTrials.gov search result {index} is not a JSON object")
    token = doc.get("nextPageToken")
    return list(studies), token if isinstance(token, str) and token else None
