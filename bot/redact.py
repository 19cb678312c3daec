"""Secret values never leave in a source's error: it is stored, printed and posted to Slack."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping

from watchers.base import Watcher
from watchers.model import SourceError, SourceResult, Topic
from watchers.text.redact import REDACTED, Redactor

# Redactor lives in watchers/text/redact.py (one home for every layer); re-exported here.
__all__ = ["REDACTED", "RedactingWatcher", "Redactor"]

log = logging.getLogger(__name__)


class RedactingWatcher:
    """Wraps a watcher so the errors it raises carry no secret value.

    Servers echo requests back (a 400 repeating the query string, NCBI naming the api-key it
    counted against), and a watcher quotes what the server said. Http already drops query
    strings and `key=value` pairs; matching the values themselves also catches `"api-key": "…"`,
    a bare key in a text body, one spelled URL-, JSON- or base64-encoded, or one cut short.
    """

    def __init__(self, inner: Watcher, redact: Redactor) -> None:
        self.inner = inner
        self.redact = redact
        self.source = inner.source

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The inner watcher's result, or its error with every secret value redacted."""
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
        except Exception as exc:
            # A watcher bug whose message quotes a secret: the caller would store its text as
            # "internal error (...)", so hand it over already worded and redacted.
            message = f"{type(exc).__name__}: {exc}"
            clean = self.redact(message)
            if clean == message:
                raise
            log.error("unexpected error polling %s for %s: %s", self.source, topic.name, clean)
            raise SourceError(f"internal error ({clean})") from None
