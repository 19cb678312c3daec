"""The one secret scrubber: known secret values in every encoding, and URL-borne credentials.

Here, at the bottom of the import graph, so watchers, state and bot all use the same one.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from html import escape
from itertools import permutations
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Redactor", "scrub_url_secrets"]

REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter values would redact ordinary words
# An error snippet may cut a secret short; a piece this long is still the secret's, not chance.
_MIN_PIECE = 8

_SECRET_PAIR = re.compile(
    r"(?i)\b(api[_-]?key|key|token|access_token|password|secret)=[^&\s'\"<>]+"
)
_URL_QUERY = re.compile(r"(https?://[^\s?#'\"<>]*)\?[^\s'\"<>]*")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@")


def scrub_url_secrets(text: str) -> str:
    """`text` without query strings, `key=value` secrets or `user:password@` in URLs."""
    text = _URL_USERINFO.sub(r"\1", text)
    return _SECRET_PAIR.sub(rf"\1={REDACTED}", _URL_QUERY.sub(r"\1", text))


class Redactor:
    """Replaces every configured secret value in a text, however it was encoded or cut."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET})
        forms = {form for value in values for form in _encodings(value)}
        # user:password as HTTP Basic and SMTP AUTH PLAIN carry it, for any two secrets.
        for user, password in permutations(values, 2):
            for joined in (f"{user}:{password}", f"\0{user}\0{password}"):
                forms.add(base64.b64encode(joined.encode()).decode().rstrip("="))
        # Matched without regard to case: some servers upper- or lower-case what they echo
        # (percent-escapes as %2f or %2F, a whole query string lower-cased).
        self._forms = sorted({form.lower() for form in forms}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        folded = text.lower()
        if len(folded) != len(text):  # a few non-ASCII letters change length: match as is
            folded = text
        spans = [span for form in self._forms for span in _occurrences(form, folded)]
        if not spans:
            return text
        out, end = [], 0
        for start, stop in _merged(spans):
            out.append(text[end:start])
            out.append(REDACTED)
            end = stop
        out.append(text[end:])
        return "".join(out)


def _encodings(value: str) -> set[str]:
    """The spellings a secret takes in URLs, JSON, HTML and base64."""
    percent = {quote(value, safe=""), quote(value), quote_plus(value)}
    escaped = json.dumps(value)[1:-1]
    forms = {value, escape(value), escaped, escaped.replace("/", "\\/"), *percent}
    forms.add(base64.b64encode(value.encode()).decode().rstrip("="))
    return {form for form in forms if len(form) >= _MIN_SECRET}


def _occurrences(form: str, text: str) -> list[tuple[int, int]]:
    """Where `form` appears whole, or as a prefix or suffix of at least _MIN_PIECE characters."""
    if len(form) < _MIN_PIECE:
        return [(m.start(), m.start() + len(form)) for m in re.finditer(re.escape(form), text)]
    spans = []
    head, tail = form[:_MIN_PIECE], form[-_MIN_PIECE:]
    for match in re.finditer(re.escape(head), text):
        stop = match.end()
        while stop - match.start() < len(form) and stop < len(text):
            if text[stop] != form[stop - match.start()]:
                break
            stop += 1
        spans.append((match.start(), stop))
    for match in re.finditer(re.escape(tail), text):
        start = match.start()
        offset = len(form) - _MIN_PIECE  # where `tail` starts inside `form`
        while offset > 0 and start > 0 and text[start - 1] == form[offset - 1]:
            start, offset = start - 1, offset - 1
        spans.append((start, match.end()))
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged
