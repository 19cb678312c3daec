"""Secret values never leave in a source's error: it is stored, printed and posted to Slack."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from watchers.base import Watcher
from watchers.model import SourceError, SourceResult, Topic

__all__ = ["REDACTED", "RedactingWatcher", "Redactor"]

REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter values would redact ordinary words


class Redactor:
    """Replaces every configured secret value in a text, also as it appears URL-encoded."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {
            form
            for secret in secrets
            if len(secret) >= _MIN_SECRET
            for form in (secret, quote(secret, safe=""), quote_plus(secret))
        }
        # Longest first, so a secret containing another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text


class RedactingWatcher:
    """Wraps a watcher so the SourceErrors it raises carry no secret value.

    Servers echo requests back (a 400 repeating the query string, NCBI naming the api-key it
    counted against), and a watcher quotes what the server said. Http already drops query
    strings and `key=value` pairs; matching the values themselves also catches `"api-key": "…"`,
    a bare key in a text body, or one spelled URL-encoded.
    """

    def __init__(self, inner: Watcher, redact: Redactor) -> None:
        self.inner = inner
        self.redact = redact
        self.source = inner.source

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The inner watcher's result, or its SourceError with every secret value redacted."""
        try:
            return self.inner.poll(topic, meta)
        except SourceError as exc:
            message = str(exc)
            clean = self.redact(message)
            if clean == message:
                raise
            scrubbed = copy.copy(exc)  # same class and `transient`, only the words change
            scrubbed.args = (clean,)
            # `from None`: the original, with the secret, must not ride along as the cause.
            raise scrubbed from None
