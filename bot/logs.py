"""Logging set-up: plain or JSON lines, with every configured secret redacted."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.config import LoadedConfig
from bot.terminal_text import one_line, printable
from watchers.text.redact import Redactor

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging", "log_destinations"]

log = logging.getLogger("trialwatch")

# `key=value` pairs in our messages become JSON keys; these keys take the rest of the line.
_PAIR = re.compile(r"(?:(?<=\s)|^)([a-z_]+)=('(?:[^'\\]|\\.)*'|\S+)")
_REST_KEYS = frozenset({"error", "reason"})
# Attributes every LogRecord has: anything else came from `extra=` and is a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Replaces secret values (also URL-encoded) wherever they would appear in a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        # Source text reaches the log too: no terminal escapes, no forged log lines.
        record.msg, record.args = one_line(self.redact(record.getMessage())), None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = printable(self.redact(text)), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def message_fields(message: str) -> dict[str, str]:
    """The `key=value` pairs of a log message; `error=` and `reason=` run to the line's end."""
    fields: dict[str, str] = {}
    for match in _PAIR.finditer(message):
        key, value = match.group(1), match.group(2)
        if key in _REST_KEYS:
            fields[key] = message[match.start(2) :].strip()
            break
        fields[key] = value[1:-1] if value.startswith("'") and len(value) > 1 else value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, milliseconds), level, logger, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        moment = datetime.fromtimestamp(record.created, UTC)
        payload: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        for key, value in message_fields(message).items():
            payload.setdefault(key, value)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_text or record.exc_info:
            payload["traceback"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(
    level: int, secrets: Iterable[str], *, json_lines: bool = False, errors_only: Iterable[str] = ()
) -> None:
    """Send logs to stderr at `level`, redacting secrets; `errors_only` loggers below ERROR are
    dropped (their news is shown another way, e.g. `check`'s progress lines)."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter(secrets))
    quiet = tuple(errors_only)
    if quiet:
        handler.addFilter(
            lambda record: (
                record.levelno >= logging.ERROR
                or not any(record.name == q or record.name.startswith(q + ".") for q in quiet)
            )
        )
    plain = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    plain.converter = _utc_struct
    handler.setFormatter(JsonFormatter() if json_lines else plain)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    debug = level <= logging.DEBUG
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    # Alembic says "Context impl SQLiteImpl" and "Will assume ..." at every start: chatter.
    logging.getLogger("alembic").setLevel(logging.DEBUG if debug else logging.WARNING)
    # APScheduler logs every job start and end at INFO; the poll lines already say what happened.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if debug else logging.WARNING)


def _utc_struct(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


def log_destinations(loaded: LoadedConfig) -> None:
    """One start-up line per destination: where alerts and the digest go, or why they do not."""
    settings, secrets = loaded.settings, loaded.secrets
    if secrets.slack_bot_token is None:
        log.info("alerts go to the console: SLACK_BOT_TOKEN is not set")
    else:
        channels = sorted({t.slack_channel for t in settings.topics if t.slack_channel})
        default = settings.slack.channel or "(none)"
        extra = f"; topic channels {', '.join(channels)}" if channels else ""
        log.info("alerts go to Slack: default channel %s%s", default, extra)
    digest = settings.digest
    if digest is None or not digest.to:
        log.info("no email digest: the config has no [digest] with recipients")
    else:
        log.info(
            "email digest goes to %d recipient(s) daily at %s %s via %s:%d",
            len(digest.to),
            digest.time.strftime("%H:%M"),
            digest.timezone,
            digest.smtp_host,
            digest.smtp_port,
        )
