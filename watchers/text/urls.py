"""Canonical links: one spelling per page, so the same story found twice has the same key."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = ["SESSION_PARAMS", "TRACKING_PARAMS", "canonical_url"]

# Query parameters that say how a reader arrived, not which page it is. `oc` is Google News's
# (its article links end `?oc=5`, docs/sources.md#google-news); the others are newsletter,
# ad, analytics and marketing-automation trackers.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ocid", "cmpid", "oc", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "wt.mc_id", "vero_id", "trk", "ref_src",
    }
)  # fmt: skip
# Parameters that name the reader's session, not the page: a new value on every fetch.
SESSION_PARAMS = frozenset(
    {
        "sid", "sessid", "sessionid", "session_id", "jsessionid", "phpsessid", "aspsessionid",
        "cfid", "cftoken", "zenid", "osCsid",
    }
)  # fmt: skip
_SESSION_NAMES = frozenset(name.lower() for name in SESSION_PARAMS)
# Java servlets put the session in the path: /page;jsessionid=0A1B2C
_PATH_SESSION = re.compile(r"(?i);(?:jsessionid|phpsessid|sid)=[^/;?#]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """`url` with scheme and host lower-cased, default port, fragment and trackers removed."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # an unbalanced IPv6 bracket or a non-numeric port: leave it be
        return text
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return urlunsplit(parts._replace(fragment=""))
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _PATH_SESSION.sub("", parts.path) or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def _clean_query(query: str) -> str:
    # Filter the raw `name=value` pairs rather than re-encoding them, so the parameters that
    # stay keep exactly the spelling the publisher gave them.
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.partition("=")[0]).strip().lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS or name in _SESSION_NAMES
