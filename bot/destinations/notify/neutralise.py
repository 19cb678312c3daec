"""Source text made inert for the service that shows it: no mentions, no forged links.

A feed title is written by someone else. Chat services turn `@everyone`, `<@U123>`, `<!here>`
or `[click](https://evil)` into pings and links; structured webhooks (JSON, XML, form) hand
the text to a program, which gets it unchanged apart from control characters.
"""

from __future__ import annotations

import re

__all__ = ["RAW_SCHEMES", "neutralise", "neutralise_link"]

# Apprise schemes whose receiver is a program, not a chat window.
RAW_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ZWSP = "\u200b"  # invisible, and enough to stop a mention or a link from parsing
_MENTION = re.compile(r"([@!#&])(?=\w)")
_MD_LINK = re.compile(r"\]\s*\(")


def neutralise(text: str, scheme: str) -> str:
    """`text` safe to show on `scheme`'s service (an Apprise URL scheme such as `discord`)."""
    text = _CONTROL.sub("", text)
    if scheme.lower() in RAW_SCHEMES:
        return text
    # Angle brackets carry Slack/Discord/Mattermost mentions and links (<@U1>, <!here>,
    # <https://x|y>) and Teams' <at> tags: show them as look-alike characters.
    text = text.replace("<", "\u2039").replace(">", "\u203a")  # single angle quotes
    text = _MENTION.sub(lambda m: m.group(1) + _ZWSP, text)  # @everyone, @here, @user
    return _MD_LINK.sub("]" + _ZWSP + "(", text)  # [label](url) stays text


def neutralise_link(url: str, scheme: str) -> str:
    """A source's link, still working, but unable to mention anyone on `scheme`'s service."""
    url = _CONTROL.sub("", url)
    if scheme.lower() in RAW_SCHEMES:
        return url
    # Percent-encoding keeps the link valid while `@everyone` or `<@U1>` in it stops parsing.
    for char, code in (("@", "%40"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(char, code)
    return url
