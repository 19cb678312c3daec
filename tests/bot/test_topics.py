"""Finding a topic by what a user types: its own name first, then an alias, then a trial id."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.topics import UnknownTopicError, find_topic
from watchers.model import Topic

WATCHER = Topic(name="ulefnersen", aliases=("ION363",), trials=("NCT04768972",))
# A topic named after a trial (someone follows one trial on its own) and one whose alias is it.
NAMED_LIKE_A_TRIAL = Topic(name="NCT04768972")
ALIASED_LIKE_A_TRIAL = Topic(name="fus-als", aliases=("nct02623699",))
SOD1 = Topic(name="tofersen", trials=("NCT02623699",))


def nothing_stored(topic: str, source: str) -> tuple[str, ...]:
    return ()


@pytest.mark.parametrize("order", [1, -1], ids=["watcher-first", "named-first"])
def test_a_topic_named_like_a_trial_is_found_by_its_name(order: int) -> None:
    topics = [WATCHER, NAMED_LIKE_A_TRIAL][::order]
    assert find_topic(topics, "nct04768972 ", nothing_stored) is NAMED_LIKE_A_TRIAL
    assert find_topic(topics, "ION363", nothing_stored) is WATCHER


def test_an_alias_wins_over_another_topics_trial_id() -> None:
    topics = [SOD1, ALIASED_LIKE_A_TRIAL]
    assert find_topic(topics, "NCT02623699", nothing_stored) is ALIASED_LIKE_A_TRIAL
    assert find_topic(topics, "tofersen", nothing_stored) is SOD1


def test_a_trial_id_still_finds_its_topic_and_unknown_names_are_refused() -> None:
    assert find_topic([SOD1, WATCHER], "nct04768972", nothing_stored) is WATCHER
    with pytest.raises(UnknownTopicError):
        find_topic([SOD1, WATCHER], "NCT00000000", nothing_stored)


def test_status_of_a_topic_named_like_a_trial_shows_that_topic(tmp_path: Path) -> None:
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n'
        '[[topics]]\nname = "ulefnersen"\ntrials = ["NCT04768972"]\n'
        '[[topics]]\nname = "NCT04768972"\n'
    )
    result = CliRunner().invoke(
        app, ["status", "NCT04768972", "--config", str(config)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("NCT04768972")
    assert "ulefnersen" not in result.stdout
