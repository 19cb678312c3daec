"""The one link policy for every output: a source's URL becomes a link only if it is http(s).

Sources hand us URLs (EMA's `medicine_url`, the Federal Register's `html_url`, feed links)
that end up in `<a href>` on the dashboard and in `report --html`, in the digest, in Slack and
in Apprise posts. A browser reads `java\\tscript:` or ` javascript:` as `javascript:`, so the
check is made on the URL as a browser reads it (WHATWG URL parsing: C0 controls and spaces
trimmed, tab/CR/LF removed anywhere, scheme case-insensitive), and that same string is the
link we emit. Anything else (javascript:, data:, vbscript:, file:, a relative or
protocol-relative `//host` link, which would take the scheme of wherever the page is opened,
e.g. file:// for a saved report) is shown as text, never as a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["WEB_SCHEMES", "web_link"]

WEB_SCHEMES = frozenset({"http", "https"})

_EDGES = "".join(map(chr, range(0x21)))  # C0 controls and space, trimmed at both ends
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")  # removed anywhere, as browsers do


def web_link(url: str | None) -> str | None:
    """`url` as a browser reads it, if that is an absolute http(s) link with a host; else None."""
    if not url:
        return None
    href = url.strip(_EDGES).translate(_TAB_NEWLINE)
    scheme, colon, _ = href.partition(":")
    if not colon or scheme.lower() not in WEB_SCHEMES:
        return None
    try:
        host = urlsplit(href).hostname
    except ValueError:  # an unbalanced IPv6 bracket, say: not a link a reader can follow
        return None
    return href if host else None
