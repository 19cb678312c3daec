"""Canonical links: one spelling per page, whatever trackers and typography a feed adds."""

from __future__ import annotations

import pytest

from watchers.text.urls import canonical_url

FDA = "https://www.fda.gov/news-events/press-announcements/fda-approves-x"

# raw -> canonical
CASES = {
    "already canonical": (FDA, FDA),
    "whitespace around (FDA Drupal feeds)": (f"\n    {FDA}\n  ", FDA),
    "scheme and host lower-cased": (
        "HTTPS://WWW.FDA.GOV/news-events/Press-Announcements/X",
        "https://www.fda.gov/news-events/Press-Announcements/X",
    ),
    "fragment removed": (f"{FDA}#main-content", FDA),
    "utm parameters removed": (f"{FDA}?utm_source=rss&utm_medium=feed&UTM_Campaign=x", FDA),
    "other parameters kept in order": (
        "https://example.org/a?b=2&utm_source=x&a=1",
        "https://example.org/a?b=2&a=1",
    ),
    "kept parameters keep their spelling": (
        "https://example.org/s?q=FUS%20ALS&fbclid=abc",
        "https://example.org/s?q=FUS%20ALS",
    ),
    "google news oc": (
        "https://news.google.com/rss/articles/CBMiswFBVV95cUxNdWxlZm5lcnNlbjE?oc=5",
        "https://news.google.com/rss/articles/CBMiswFBVV95cUxNdWxlZm5lcnNlbjE",
    ),
    "ad and newsletter trackers": (
        "https://example.org/a?gclid=1&mc_cid=2&mc_eid=3&ocid=4&cmpid=5&id=7",
        "https://example.org/a?id=7",
    ),
    "default https port dropped": ("https://example.org:443/a", "https://example.org/a"),
    "default http port dropped": ("http://example.org:80/a", "http://example.org/a"),
    "other port kept": ("https://Example.org:8443/a", "https://example.org:8443/a"),
    "http is not upgraded": ("http://www.fda.gov/a", "http://www.fda.gov/a"),
    "empty path is the root": ("https://ir.ionis.com", "https://ir.ionis.com/"),
    "empty query dropped": (f"{FDA}?", FDA),
    "only trackers: no question mark": (f"{FDA}?utm_source=a#x", FDA),
    "path case kept": ("https://example.org/A/B", "https://example.org/A/B"),
    "userinfo kept": ("https://user@Example.org/a", "https://user@example.org/a"),
    "not a web url": ("urn:uuid:1234#x", "urn:uuid:1234"),
    "a guid that is no url": ("  CBMiswFBVV95  ", "CBMiswFBVV95"),
    "broken port left alone": ("https://example.org:abc/a", "https://example.org:abc/a"),
}


@pytest.mark.parametrize(("raw", "expected"), CASES.values(), ids=CASES.keys())
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_url_is_idempotent() -> None:
    for raw, _ in CASES.values():
        once = canonical_url(raw)
        assert canonical_url(once) == once


# Session ids change on every fetch; a link keyed by one would be a new item each poll.
SESSION_CASES = {
    "query session id": (f"{FDA}?sid=9f8e7d&id=7", f"{FDA}?id=7"),
    "PHP session, any case": (f"{FDA}?PHPSESSID=abc123", FDA),
    "servlet session in the path": (
        "https://example.org/news/item;jsessionid=0A1B2C3D?id=7",
        "https://example.org/news/item?id=7",
    ),
    "analytics and marketing trackers": (
        f"{FDA}?_ga=2.1.2.3&_hsenc=p2A&mkt_tok=eyJ&msclkid=9&WT.mc_id=rss",
        FDA,
    ),
    "a parameter merely containing sid is kept": (
        "https://example.org/a?side=left&consider=1",
        "https://example.org/a?side=left&consider=1",
    ),
}


@pytest.mark.parametrize(("raw", "canonical"), SESSION_CASES.values(), ids=SESSION_CASES.keys())
def test_session_parameters_are_not_part_of_the_page(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical
