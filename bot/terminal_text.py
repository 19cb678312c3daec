"""Source text made safe to show: no terminal escapes, no control characters, no forged lines."""

from __future__ import annotations

import re

__all__ = ["one_line", "printable", "shown_name"]

# ANSI/VT escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks), DCS/PM/APC
# strings, two-byte escapes, and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x90\x9d\x98\x9e\x9f][^\x1b\x9c\x07]*(?:\x07|\x1b\\|\x9c)?"
)
# Line breaks of every kind: a one-line field must not start a line of its own.
_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\r\n\v\f\x85\u2028\u2029])[ \t]*")
# C0/C1 controls (tab and newline kept by `printable`) and every bidi control that reorders
# text: embeddings/overrides, isolates, and the LRM, RLM and Arabic letter marks.
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    r"\u200e\u200f\u061c]"
)


def printable(text: str) -> str:
    """`text` without escape sequences or control characters; newlines and tabs kept."""
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """`text` for a one-line field: escapes and controls gone, every line break folded to ' '."""
    return printable(_BREAKS.sub(" ", _ESCAPES.sub("", text))).replace("\t", " ")


def shown_name(user_name: str) -> str:
    """A Slack user name as plain text (`@ana`): one line, never a mention."""
    return "@" + one_line(user_name).lstrip("@")[:80]
