"""The last guard before Slack: clamp any Block Kit payload to Slack's limits.

The limits are in docs/sources.md#slack-web-api and are written down here only.
bot/destinations/render.py already cuts long content with a link to the record; this catches
what it cannot foresee (a feed's 5,000-character URL, a huge GUID in the context line), so an
alert is cut, never refused with `invalid_blocks`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from bot.destinations.cut import ELLIPSIS as _ELLIPSIS
from bot.destinations.cut import cut_mrkdwn, truncate

__all__ = ["HEADER_LIMIT", "MAX_BLOCKS", "SECTION_LIMIT", "fit_blocks"]

# Block Kit limits (docs/sources.md#slack-web-api).
MAX_BLOCKS = 50  # blocks per message
HEADER_LIMIT = 150  # header plain_text
SECTION_LIMIT = 3000  # section and context mrkdwn
_HEADER, _TEXT, _FIELD, _ELEMENTS, _FIELDS = HEADER_LIMIT, SECTION_LIMIT, 2000, 10, 10


def _fit_text(obj: Any, limit: int, tail: str) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        if obj.get("type") == "plain_text":
            obj["text"] = truncate(obj["text"], limit)
        else:
            obj["text"] = cut_mrkdwn(obj["text"], limit, tail)


def fit_blocks(
    blocks: list[dict[str, Any]],
    *,
    tail: str = _ELLIPSIS,
    footer: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """A copy of `blocks` within Slack's limits; cut mrkdwn ends with `tail` (e.g. a link).

    `footer` (the triage buttons and who did what) is always kept, after the content: it
    counts in the 50 blocks, so the content gives way.
    """
    fitted = copy.deepcopy(blocks)
    room = MAX_BLOCKS - len(footer)
    if len(fitted) > room:
        dropped = len(fitted) - (room - 1)
        note = f"{_ELLIPSIS} {dropped} more block(s) not shown {tail}".strip()
        fitted = [
            *fitted[: room - 1],
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
        ]
    fitted += copy.deepcopy(list(footer))
    for block in fitted:
        kind = block.get("type")
        if kind == "header":
            _fit_text(block.get("text"), _HEADER, tail)
        elif kind == "section":
            _fit_text(block.get("text"), _TEXT, tail)
            if isinstance(block.get("fields"), list):
                block["fields"] = block["fields"][:_FIELDS]
                for item in block["fields"]:
                    _fit_text(item, _FIELD, _ELLIPSIS)
        elif kind == "context" and isinstance(block.get("elements"), list):
            block["elements"] = block["elements"][:_ELEMENTS]
            for element in block["elements"]:
                _fit_text(element, _TEXT, _ELLIPSIS)
    return fitted
