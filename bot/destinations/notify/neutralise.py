"""Source text made inert for the service that shows it: no mentions, no forged links.

A feed title is written by someone else. Chat services turn `@everyone`, `<@U123>`, `<!here>`
or `[click](https://evil)` into pings and links. Structured webhooks (JSON, XML, form) hand
the text to a program, which often relays it into a chat (a Discord, Mattermost or
Slack-compatible webhook): mention syntax is made inert for every scheme, the rest of the
text reaches a program as written.
"""

from __future__ import annotations

import re

__all__ = ["RAW_SCHEMES", "neutralise", "neutralise_link"]

# Apprise schemes whose receiver is a program, not a chat window.
RAW_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ZWSP = "\u200b"  # invisible, and enough to stop a mention or a link from parsing
# Slack/Discord/Mattermost tokens: <@U1>, <@!1>, <@&role>, <!here>, <!subteam^S1>, <#C1>.
_MENTION_TOKEN = re.compile(r"<([@!#][^<>]*)>")
_AT = re.compile(r"@(?=\w)")  # @everyone, @here, @channel, @all, @user
_SIGIL = re.compile(r"([!#&])(?=\w)")  # the rest of <!here>, <#C1>, &lt;@U1&gt; unbracketed
_MD_LINK = re.compile(r"\]\s*\(")


def _no_mentions(text: str) -> str:
    # Look-alike angle quotes and a zero-width space after @: no service parses either as a
    # mention, and a reader (or a program relaying the text) still sees the same words.
    text = _MENTION_TOKEN.sub(lambda m: f"\u2039{m.group(1)}\u203a", text)
    return _AT.sub("@" + _ZWSP, text)


def neutralise(text: str, scheme: str) -> str:
    """`text` safe to show on `scheme`'s service (an Apprise URL scheme such as `discord`)."""
    text = _no_mentions(_CONTROL.sub("", text))
    if scheme.lower() in RAW_SCHEMES:
        return text
    # Angle brackets carry Slack/Discord/Mattermost mentions and links (<@U1>, <!here>,
    # <https://x|y>) and Teams' <at> tags: show them as look-alike characters.
    text = text.replace("<", "\u2039").replace(">", "\u203a")  # single angle quotes
    text = _SIGIL.sub(lambda m: m.group(1) + _ZWSP, text)
    return _MD_LINK.sub("]" + _ZWSP + "(", text)  # [label](url) stays text


def neutralise_link(url: str, scheme: str) -> str:
    """A source's link, still working, but unable to mention anyone on `scheme`'s service."""
    url = _CONTROL.sub("", url)
    # Percent-encoding keeps the link valid while `@everyone` or `<@U1>` in it stops parsing,
    # for a program too: it may post the link on to a chat.
    for char, code in (("@", "%40"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(char, code)
    return url
