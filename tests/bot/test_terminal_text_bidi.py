"""Bidi controls never reach a terminal: a name cannot reorder what is printed around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.check_summary import poll_line
from bot.polling.pipeline import PollSummary
from bot.terminal_text import one_line, printable
from state.types import PollOutcome

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI += ["\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("control", BIDI)
def test_every_bidi_control_is_stripped_from_printed_text(control: str) -> None:
    assert one_line(f"ule{control}nersen") == "ulenersen"
    assert printable(f"a{control}b\nc") == "ab\nc"


def test_status_of_an_unknown_topic_prints_neither_its_name_nor_known_names_with_bidi(
    tmp_path: Path,
) -> None:
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/trialwatch.db"\n\n'
        '[[topics]]\nname = "ulefnersen"\n\n[[topics]]\nname = "tofersen"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["status", "no\u202esuch", "--config", str(config)])
    assert result.exit_code == 1
    assert "unknown topic 'nosuch'; known topics: ulefnersen, tofersen" in result.output
    assert not any(control in result.output for control in BIDI)


def test_a_topic_name_with_a_bidi_control_is_refused_and_shown_escaped(tmp_path: Path) -> None:
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/trialwatch.db"\n\n'
        '[[topics]]\nname = "ule\u202enersen"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["status", "nosuch", "--config", str(config)])
    assert result.exit_code == 2
    assert "\\u202e" in result.output
    assert not any(control in result.output for control in BIDI)


def test_check_summary_prints_a_topic_name_without_bidi_controls() -> None:
    poll = PollSummary("ctgov", "ule\u202enersen", PollOutcome.OK, 1, 0.5)
    assert "(ulenersen)" in poll_line(poll, width=None)
