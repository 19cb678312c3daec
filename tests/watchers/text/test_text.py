"""Item text: HTML to what a reader sees, clipping, safety wording."""

from __future__ import annotations

import pytest

from watchers.text.words import clip, is_safety_title, plain_text

PLAIN = {
    "google news description": (
        '<a href="https://news.google.com/rss/articles/X?oc=5" target="_blank">Headline</a>'
        '&nbsp;&nbsp;<font color="#6f6f6f">STAT</font>',
        "Headline STAT",
    ),
    "paragraphs separate words": ("<p>One.</p><p>Two.</p>", "One. Two."),
    "entities decoded": (
        "Food &amp; Drug &lt;Administration&gt; &#8217;s",
        "Food & Drug <Administration> \u2019s",
    ),
    "scripts dropped": ("a<script>alert(1)</script>b", "ab"),
    "indented feed text collapsed": (
        "Vivimed is\n                recalling 19 lots",
        "Vivimed is recalling 19 lots",
    ),
    "plain text unchanged": ("No markup here", "No markup here"),
    "empty": ("", ""),
}


@pytest.mark.parametrize(("html", "expected"), PLAIN.values(), ids=PLAIN.keys())
def test_plain_text(html: str, expected: str) -> None:
    assert plain_text(html) == expected


def test_clip_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert clip("short") == "short"
    cut = clip("word " * 200)
    assert len(cut) <= 500
    assert cut.endswith("word…")
    assert clip("x" * 600).endswith("…")
    assert len(clip("x" * 600)) == 500


SAFETY = {
    "safety communication": ("FDA Drug Safety Communication: new warning for X", True),
    "recall": ("Vivimed Issues Voluntary Nationwide Recall of Losartan", True),
    "boxed warning": ("FDA adds Boxed Warning to X label", True),
    "recalls plural": ("Company recalls lots of X", True),
    "approval is not safety": ("FDA Approves First Treatment for FUS-ALS", False),
    "safety data is not a communication": ("Long-term safety data for ulefnersen", False),
}


@pytest.mark.parametrize(("title", "expected"), SAFETY.values(), ids=SAFETY.keys())
def test_is_safety_title(title: str, expected: bool) -> None:
    assert is_safety_title(title) is expected
