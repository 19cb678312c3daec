"""The example config as the README has users copy it: it works, and it is the embedded defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "trialwatch.example.toml"
SEC_COMMENTED = '# [sources.sec_edgar]\n# base_url = "https://efts.sec.gov/LATEST"\n'


def test_the_embedded_defaults_are_the_example(tmp_path: Path) -> None:
    embedded = load_settings(None, env={}, cwd=tmp_path)
    example = load_settings(str(EXAMPLE), env={}, cwd=tmp_path)
    assert embedded.source.startswith("embedded defaults")
    assert embedded.settings == example.settings


def test_the_example_leaves_sec_off_and_says_how_to_turn_it_on(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    assert load_settings(str(EXAMPLE), env={}, cwd=tmp_path).settings.sources.sec_edgar is None
    assert SEC_COMMENTED in text and "put your\n# organisation and a contact e-mail" in text


def test_sec_turned_on_with_the_placeholder_contact_is_a_config_error(tmp_path: Path) -> None:
    uncommented = EXAMPLE.read_text().replace("# [sources.sec_edgar]", "[sources.sec_edgar]")
    for key in ("base_url", "contact", "interval"):
        uncommented = uncommented.replace(f"# {key} = ", f"{key} = ", 1)
    path = tmp_path / "trialwatch.toml"
    path.write_text(uncommented)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={}, cwd=tmp_path)
    assert "sources.sec_edgar.contact: is a placeholder" in str(caught.value)
    path.write_text(uncommented.replace("ops@your-org.example", "ops@ionis-watch.org"))
    sec = load_settings(str(path), env={}, cwd=tmp_path).settings.sources.sec_edgar
    assert sec is not None and sec.enabled  # a real contact is accepted


def test_a_copied_example_checks_without_a_sec_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # as in the README: cp trialwatch.example.toml trialwatch.toml
    shutil.copy(EXAMPLE, tmp_path / "trialwatch.toml")
    with (tmp_path / "trialwatch.toml").open("a") as config:  # no pacing or retries: a fast test
        config.write("\n[http]\nmin_interval = 0\nmax_retries = 0\n")
    with respx.mock() as router:
        router.route().respond(404, text="not served by this test")
        result = CliRunner().invoke(app, ["check"], env={"SLACK_BOT_TOKEN": "", "COLUMNS": "80"})
        asked = {call.request.url.host for call in router.calls}  # respx forgets them on exit
    assert result.exit_code == 0, result.output
    assert "clinicaltrials.gov" in asked  # the copy was read and its sources polled
    assert not [host for host in asked if host.endswith("sec.gov")]
    assert "SEC" not in result.stdout + result.stderr
