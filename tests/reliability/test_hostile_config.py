"""Hostile configuration and code: only http(s) URLs from config; no SQL built from strings."""

from __future__ import annotations

import ast
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]

# Every config key holding a URL a request is sent to, as a TOML snippet with {url} in place.
URL_KEYS = {
    "sources.clinicaltrials.base_url": '[sources.clinicaltrials]\nbase_url = "{url}"',
    "sources.clinicaltrials.history_url": '[sources.clinicaltrials]\nhistory_url = "{url}"',
    "sources.openfda.base_url": '[sources.openfda]\nbase_url = "{url}"',
    "sources.google_news.base_url": '[sources.google_news]\nbase_url = "{url}"',
    "sources.pubmed.base_url": '[sources.pubmed]\nbase_url = "{url}"',
    "sources.ema_medicines.url": '[sources.ema_medicines]\nurl = "{url}"',
    "sources.feeds.0.url": '[[sources.feeds]]\nname = "x"\nurl = "{url}"',
    "slack.api_url": '[slack]\napi_url = "{url}"',
    "sources.ctis.base_url": '[sources.ctis]\nbase_url = "{url}"',
    "sources.federal_register.base_url": '[sources.federal_register]\nbase_url = "{url}"',
    "sources.sec_edgar.base_url": (
        '[sources.sec_edgar]\ncontact = "Tests ops@pharma.test"\nbase_url = "{url}"'
    ),
    "sources.medrxiv.base_url": '[sources.medrxiv]\nbase_url = "{url}"',
}
# A database URL, not a URL anything is fetched from; an Apprise URL (one scheme per service,
# checked by Apprise itself: tests/bot/test_notify.py).
NOT_FETCHED = {"storage.url", "notify.0.url"}
BAD_URLS = [
    "file:///etc/passwd",
    "ftp://ftp.example.org/feed.xml",
    "gopher://example.org/",
    "javascript:alert(1)",
    "data:text/xml,<rss/>",
    "//clinicaltrials.gov/api/v2",
    "clinicaltrials.gov/api/v2",
    "http://",
    "",
]


def _url_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of every field named like a URL, through nested models and tuples."""
    found = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if name == "url" or name.endswith("_url"):
            found.add(path)
        for inner in _models_in(info.annotation):
            index = ".0" if typing.get_origin(info.annotation) is tuple else ""
            found |= _url_fields(inner, f"{path}{index}.")
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    candidates = [annotation, *typing.get_args(annotation)]
    return [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]


def test_every_url_key_is_covered() -> None:
    assert _url_fields(Settings) - NOT_FETCHED == set(URL_KEYS)


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("key", list(URL_KEYS))
def test_only_http_urls_are_accepted(tmp_path: Path, key: str, url: str) -> None:
    path = tmp_path / "trialwatch.toml"
    path.write_text('[[topics]]\nname = "ulefnersen"\n' + URL_KEYS[key].format(url=url) + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(str(path), env={})
    shown = key.replace("feeds.0", 'feeds[1] "x"')  # an array item as its author counts it
    assert f"{shown}: " in str(raised.value)
    assert "expected an http:// or https:// URL" in str(raised.value)


@pytest.mark.parametrize("key", list(URL_KEYS))
def test_http_and_https_urls_are_accepted(tmp_path: Path, key: str) -> None:
    path = tmp_path / "trialwatch.toml"
    for url in ("https://mirror.example.org/api", "http://127.0.0.1:8080/api"):
        path.write_text('[[topics]]\nname = "ulefnersen"\n' + URL_KEYS[key].format(url=url) + "\n")
        load_settings(str(path), env={})


# Calls that run SQL text: sqlalchemy.text(), Connection/Session .execute()/.exec(), the DBAPI.
_SQL_CALLS = {"text", "execute", "exec", "exec_driver_sql", "executescript", "executemany"}


def _builds_a_string(node: ast.expr) -> bool:
    """An f-string, `%` or `+` formatting, or a `.format()` call."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def sql_built_from_strings(source: str) -> list[int]:
    """Line numbers where SQL text is built by string formatting."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _SQL_CALLS and _builds_a_string(node.args[0]):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("text(f\"SELECT * FROM alert WHERE topic = '{topic}'\")", True),
        ('session.execute(text("DELETE FROM alert WHERE id = %s" % alert_id))', True),
        ('conn.exec_driver_sql("SELECT " + column)', True),
        ('cursor.execute("SELECT {}".format(name))', True),
        ('text("SELECT 1")', False),
        ('cursor.execute("PRAGMA journal_mode=WAL")', False),
        ("session.exec(select(AlertRow).where(AlertRow.topic == topic))", False),
        ('text("SELECT * FROM alert WHERE topic = :topic").bindparams(topic=topic)', False),
    ],
)
def test_the_sql_check_finds_string_built_sql(code: str, found: bool) -> None:
    assert bool(sql_built_from_strings(code)) is found


@pytest.mark.parametrize("package", ["state", "bot", "watchers"])
def test_no_sql_is_built_by_string_formatting(package: str) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in sql_built_from_strings(path.read_text("utf-8"))
    }
    assert offenders == set()
