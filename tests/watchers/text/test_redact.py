"""The one redactor: a secret is hidden however a server or an error snippet spells it."""

from __future__ import annotations

import base64

import pytest

from watchers.text.redact import REDACTED, Redactor, scrub_url_secrets

KEY = "s3cr/et+Key-0042abcd"
USER, PASSWORD = "smtp-mailer", "pa55word/with+marks"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("spelling", "text"),
    [
        ("plain", f"key {KEY} refused"),
        ("percent, upper-case", "api_key=s3cr%2Fet%2BKey-0042abcd refused"),
        ("percent, lower-case", "api_key=s3cr%2fet%2bKey-0042abcd refused"),
        ("percent, slash kept", "/keys/s3cr/et%2BKey-0042abcd refused"),
        ("JSON escaped slash", '{"api-key": "s3cr\\/et+Key-0042abcd"}'),
        ("HTML escaped", "<p>s3cr/et+Key-0042abcd</p>"),
        ("base64 of the value", f"token {_b64(KEY)} refused"),
        ("base64 of user:password", f"Authorization: Basic {_b64(f'{USER}:{PASSWORD}')}"),
        ("base64 SMTP AUTH PLAIN", f"AUTH PLAIN {_b64(chr(0) + USER + chr(0) + PASSWORD)}"),
        ("cut short: a prefix", "Bad request: api_key=s3cr/et+K…"),
        ("cut short: a suffix", "…et+Key-0042abcd is not allowed"),
        ("cut short and lower-case percent", "api_key=s3cr%2fet%2bKe…"),
    ],
)
def test_every_spelling_of_a_secret_is_redacted(spelling: str, text: str) -> None:
    redacted = Redactor([KEY, USER, PASSWORD])(text)
    assert REDACTED in redacted, spelling
    for secret in (KEY, PASSWORD):
        assert secret[:8] not in redacted and secret[-8:] not in redacted, spelling
    assert _b64(f"{USER}:{PASSWORD}")[:12] not in redacted


def test_ordinary_words_and_short_pieces_stay() -> None:
    redact = Redactor([KEY, "abc"])  # too short to redact safely: left alone
    text = "abc s3cr/e is a seven-char piece, not a leak"
    assert redact(text) == text


def test_a_secret_inside_another_is_replaced_once() -> None:
    assert Redactor(["leakcheck", "leakcheck-longer"])("x leakcheck-longer y") == (
        f"x {REDACTED} y"
    )


def test_url_secrets_are_dropped_without_knowing_them() -> None:
    text = "GET https://user:pw@api.example.test/v1?api_key=zzz&q=1 failed; token=abc"
    assert scrub_url_secrets(text) == (f"GET https://api.example.test/v1 failed; token={REDACTED}")
