"""[[notify]] destinations: configuration, routing by topic and severity, neutralised text,
and a URL that never leaves memory. Apprise posts to a real receiver on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apprise
import pytest

from bot.app import App, open_app
from bot.config import ConfigError, LoadedConfig, load_settings
from bot.destinations.notify.neutralise import neutralise, neutralise_link
from bot.status.terminal import status_text
from state.types import Severity
from tests.factories import Clock, result, trial
from tests.fakes.webhook import Webhooks, webhooks
from watchers.model import Topic

BASE = """
[storage]
url = "{db}"

[[topics]]
name = "ulefnersen"
aliases = ["ION363"]

[[topics]]
name = "tofersen"
"""
HOOK_SECRET = "hook-token-5f1e2d3c4b"


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhooks() as receiver:
        yield receiver


def load(
    tmp_path: Path, notify: str, db: str | None = None, env: dict[str, str] | None = None
) -> LoadedConfig:
    path = tmp_path / "trialwatch.toml"
    path.write_text(BASE.format(db=db or f"sqlite:///{tmp_path}/trialwatch.db") + notify)
    return load_settings(str(path), env=env or {}, cwd=tmp_path)


def alert_for(app: App, clock: Clock, **changed: Any) -> None:
    """A baseline poll, then one that changes `changed`: one alert for every destination."""
    for fields in ({}, changed):
        app.store.apply_poll(result(trial(**fields)), started=clock(), at=clock())


@pytest.mark.parametrize(
    ("notify", "says"),
    [
        ('[[notify]]\nname = "x"\n', "give exactly one of url"),
        ('[[notify]]\nname = "x"\nurl = "json://h/p"\nurl_env = "X"\n', "exactly one of url"),
        ('[[notify]]\nname = "x"\nurl = "hooks.example.org/x"\n', "must be an Apprise URL"),
        ('[[notify]]\nname = "slack"\nurl = "json://h/p"\n', "is used twice or reserved"),
        ('[[notify]]\nname = "a"\nurl = "json://h/p"\n' * 2, "is used twice or reserved"),
        ('[[notify]]\nname = "x"\nurl = "json://h/p"\ntopics = ["nope"]\n', "unknown topic"),
        ('[[notify]]\nname = "x"\nurl = "json://h/p"\nmin_severity = "urgent"\n', "min_severity"),
        ('[[notify]]\nname = "x"\nurl = "json://h/p"\nchannel = "#x"\n', "unknown key"),
    ],
)
def test_bad_notify_entries_are_refused_naming_the_problem(
    tmp_path: Path, notify: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        load(tmp_path, notify)


def test_a_url_from_the_environment_is_a_secret(tmp_path: Path) -> None:
    url = f"msteams://{HOOK_SECRET}/"
    loaded = load(
        tmp_path, '[[notify]]\nname = "teams"\nurl_env = "TEAMS_URL"\n', env={"TEAMS_URL": url}
    )
    assert url in loaded.secrets.values()  # redacted from every log line
    assert HOOK_SECRET not in repr(loaded)


def test_alerts_go_to_the_entries_that_take_their_topic_and_severity(tmp_path: Path) -> None:
    notify = """
[[notify]]
name = "everything"
url = "json://127.0.0.1:9/all"

[[notify]]
name = "tofersen-high"
url = "json://127.0.0.1:9/high"
topics = ["tofersen"]
min_severity = "high"
"""
    with open_app(load(tmp_path, notify), write=print) as app:
        [ulefnersen, tofersen] = app.topics
        assert set(app.destinations_for(ulefnersen)) == {"everything"}  # no console either
        routes = app.destinations_for(tofersen)
        assert set(routes) == {"everything", "tofersen-high"}
        high = routes["tofersen-high"]
        assert not isinstance(high, str) and high is not None
        assert [high.accepts(s) for s in Severity] == [True, False, False]  # high, normal, low


def test_missing_url_keeps_alerts_waiting_and_says_why(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    notify = '[[notify]]\nname = "teams"\nurl_env = "TEAMS_URL"\n'
    clock = Clock()
    with caplog.at_level(logging.WARNING), open_app(load(tmp_path, notify, sqlite_url)) as app:
        alert_for(app, clock, overall_status="SUSPENDED")
        [report] = app.deliver()
        assert (report.sent, report.still_pending) == (0, 1)
        shown = status_text(Topic("ulefnersen"), app.store.status("ulefnersen"))
    assert "teams: FAILING" in shown
    assert "TEAMS_URL is not set" in shown
    assert "[[notify]] teams: TEAMS_URL is not set" in caplog.text


def test_an_unknown_scheme_keeps_alerts_waiting(tmp_path: Path, sqlite_url: str) -> None:
    notify = '[[notify]]\nname = "odd"\nurl = "nosuchservice://host/x"\n'
    with open_app(load(tmp_path, notify, sqlite_url)) as app:
        alert_for(app, Clock(), overall_status="SUSPENDED")
        assert app.deliver()[0].still_pending == 1
        [health] = app.destination_health()
    assert (health.destination, health.pending, health.failing) == ("odd", 1, True)
    assert health.retry_error == "odd: Apprise does not accept its URL (scheme 'nosuchservice')"


def test_a_4xx_refusal_is_counted_and_failed_after_three_while_others_go_out(
    tmp_path: Path, sqlite_url: str, hooks: Webhooks
) -> None:
    notify = f'[[notify]]\nname = "hook"\nurl = "json://{hooks.base}/hook"\n'
    clock = Clock()
    with open_app(load(tmp_path, notify, sqlite_url), clock=clock) as app:
        alert_for(app, clock, overall_status="SUSPENDED")
        hooks.status["/hook"] = 400
        reports = [app.deliver()[0] for _ in range(3)]
        assert [(r.refused, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
        [failed] = app.store.status("ulefnersen").failed_deliveries
        assert failed.destination == "hook"
        assert failed.last_error is not None and "error=400" in failed.last_error


LIVE_MENTIONS = ("@everyone", "@here", "@channel", "@all", "<@U024BE7LH>", "<@!80351110>")
LIVE_MENTIONS += ("<@&165511591>", "<!channel>", "<!here>", "<!subteam^S0614TZR7>", "<#C024BE7LR>")
HOSTILE = "FDA approves " + " ".join(LIVE_MENTIONS) + " [read](https://evil.example)"


@pytest.mark.parametrize(
    "scheme",
    ["discord", "msteams", "mmost", "mmosts", "slack", "rocket", "ntfy", "https", "json", "xml"],
)
def test_no_scheme_gets_a_live_mention(scheme: str) -> None:
    shown = neutralise(HOSTILE, scheme)
    assert [live for live in LIVE_MENTIONS if live in shown] == []
    # Still readable: the words are there, only made inert.
    assert "FDA approves" in shown and "everyone" in shown and "U024BE7LH" in shown


@pytest.mark.parametrize("scheme", ["discord", "msteams", "mmost", "slack", "ntfy"])
def test_chat_targets_get_no_forged_links(scheme: str) -> None:
    shown = neutralise(HOSTILE, scheme)
    assert "](https://evil" not in shown and "evil.example" in shown


def test_a_link_still_works_but_mentions_nobody() -> None:
    url = "https://news.example/story/@everyone?a=<@U1>"
    for scheme in ("discord", "json"):
        assert (
            neutralise_link(url, scheme) == "https://news.example/story/%40everyone?a=%3C%40U1%3E"
        )


def test_programs_behind_json_webhooks_get_the_text_as_written_but_for_mentions() -> None:
    text = "FDA approves @everyone <b>ulefnersen</b> [x](https://example.org)\x1b[31m"
    assert (
        neutralise(text, "json")
        == "FDA approves @\u200beveryone <b>ulefnersen</b> [x](https://example.org)[31m"
    )


def test_a_json_webhook_gets_no_live_mention_and_our_words_intact(
    tmp_path: Path, sqlite_url: str, hooks: Webhooks
) -> None:
    """Apprise's real client posting to a receiver on 127.0.0.1, as a relay into a chat would
    receive it."""
    notify = f'[[notify]]\nname = "json"\nurl = "json://{hooks.base}/json"\n'
    with open_app(load(tmp_path, notify, sqlite_url)) as app:
        alert_for(app, Clock(), brief_title=HOSTILE)
        assert app.deliver()[0].sent == 1
    [body] = hooks.bodies("/json")
    assert [live for live in LIVE_MENTIONS if live in body["message"]] == []
    assert "[read](https://evil.example)" in body["message"]  # a program gets the rest as is
    # Our own words: the headline, the field change and our link, exactly as we wrote them.
    assert body["title"] == "🟡 ulefnersen · ClinicalTrials.gov · changed"
    assert "https://clinicaltrials.gov/study/NCT04768972" in body["message"]


def test_a_discord_post_carries_no_live_mention_or_link(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What Apprise is handed for Discord (its servers are not reachable from the tests)."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(apprise.Apprise, "notify", lambda self, **kw: sent.append(kw) or True)
    notify = '[[notify]]\nname = "discord"\nurl = "discord://4174216298/JHMHI8qBe7bk2Z"\n'
    with open_app(load(tmp_path, notify, sqlite_url)) as app:
        alert_for(app, Clock(), brief_title="Update @everyone <@U024BE7LH> [here](https://evil.x)")
        assert app.deliver()[0].sent == 1
    [post] = sent
    for live in ("@everyone", "<@U024BE7LH>", "](https://evil"):
        assert live not in post["body"]
    assert "https://clinicaltrials.gov/study/NCT04768972" in post["body"]  # our own link stays


def test_the_commented_example_in_the_example_config_loads(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[2] / "trialwatch.example.toml").read_text()
    block = example[example.index("# [[notify]]") :].split("\n\n")[0]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    loaded = load(tmp_path, uncommented, env={"TEAMS_WEBHOOK_URL": "msteams://a/b/c/"})
    [entry] = loaded.settings.notify
    assert (entry.name, entry.url_env, entry.topics) == (
        "teams-medical-affairs",
        "TEAMS_WEBHOOK_URL",
        ("ulefnersen",),
    )
    assert entry.min_severity == "normal"
    assert str(entry.quiet) == "20:00-07:00 Europe/Zurich"
