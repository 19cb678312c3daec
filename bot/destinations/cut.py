"""The one home for cutting text to a limit: plain text, and Slack mrkdwn (links kept whole)."""

from __future__ import annotations

__all__ = ["ELLIPSIS", "cut_mrkdwn", "truncate"]

ELLIPSIS = "…"


def truncate(text: str, limit: int, suffix: str = ELLIPSIS) -> str:
    """Cut `text` to at most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: max(0, limit - len(suffix))] + suffix


def cut_mrkdwn(text: str, limit: int, tail: str = ELLIPSIS) -> str:
    """Cut mrkdwn to `limit` characters with `tail`, never inside a `<link>` or an `&entity;`."""
    if len(text) <= limit:
        return text
    if len(tail) >= limit:
        tail = ELLIPSIS
    cut = text[: limit - len(tail)]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]  # the link would lose its closing bracket: drop it whole
    amp = cut.rfind("&")
    if amp > cut.rfind(";") and amp >= len(cut) - 6:
        cut = cut[:amp]  # half an escape such as "&am" would show as text
    return cut + tail
