"""`[[topics]]`: a drug programme's name, aliases and trial ids, checked as a user types them."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, field_validator

from bot.config.milestones import Milestone
from watchers.settings import StrictSettings as _Strict
from watchers.text.trial_ids import nct_id

__all__ = ["TopicSettings", "check_topic_name"]


# A topic's name is a path segment of its dashboard link and an argument of `status`: these
# would cut, end or re-encode the URL. Control and format (bidi, zero-width) characters make a
# name that prints differently from how it is typed.
_URL_BREAKING = "/?#%\\"
_UNSEEN = {"Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp"}  # spaces other than " " look like " "


def check_topic_name(name: str) -> str:
    """The name unchanged, or ValueError saying which characters a topic name may hold."""
    unseen = any(unicodedata.category(c) in _UNSEEN and c != " " for c in name)
    breaking = any(c in _URL_BREAKING for c in name)
    # "." and ".." are resolved away by browsers; "" and " x " are not what a user types.
    if unseen or breaking or name != name.strip() or not name.strip("."):
        raise ValueError(
            "a topic name is part of its dashboard link and of `trialwatch status NAME`: use "
            "letters, digits, spaces and punctuation other than / ? # % \\, with no control "
            "characters, no space at either end, and not only dots"
        )
    return name


class TopicSettings(_Strict):
    name: Annotated[str, AfterValidator(check_topic_name)]
    aliases: tuple[str, ...] = ()
    trials: tuple[str, ...] = ()
    # EU trial numbers: EudraCT (2020-005522-28) or CTIS (2025-523333-26-00).
    eu_trials: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    slack_channel: str | None = None
    milestones: tuple[Milestone, ...] = ()  # team-entered guidance (bot/calendar)

    @field_validator("trials")
    @classmethod
    def _nct_ids(cls, trials: tuple[str, ...]) -> tuple[str, ...]:
        ids = tuple(nct_id(trial) for trial in trials)
        for trial, found in zip(trials, ids, strict=True):
            if found is None:
                raise ValueError(f"{trial!r} is not an NCT id like NCT04768972")
        return tuple(found for found in ids if found is not None)

    @field_validator("eu_trials")
    @classmethod
    def _eu_numbers(cls, trials: tuple[str, ...]) -> tuple[str, ...]:
        for trial in trials:
            if not re.fullmatch(r"\d{4}-\d{6}-\d{2}(?:-\d{2})?", trial.strip()):
                raise ValueError(
                    f"{trial!r} is not an EU trial number like 2020-005522-28 (EudraCT) "
                    "or 2025-523333-26-00 (CTIS)"
                )
        return tuple(t.strip() for t in trials)
