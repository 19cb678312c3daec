"""End to end through the App (real config, the recorded FUSION study served by respx, console
output): each tracked protocol field changed once gives exactly one alert, with its severity; a
re-flowed eligibility text gives none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import load_settings
from tests.bot.test_end_to_end import Registry
from tests.bot.test_history_import import config as fusion_config
from tests.factories import Clock

Edit = Callable[[dict[str, Any]], None]
_CRITERIA = "eligibilityModule"


def _module(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda protocol: protocol[name]


_outcomes = _module("outcomesModule")
_eligibility = _module(_CRITERIA)
_arms = _module("armsInterventionsModule")


def _design(protocol: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = protocol["designModule"]["designInfo"]
    return info


NEW_MEASURE = "Part 1: Time to Death or Permanent Ventilation"
# (what changes, how the alert words it, its severity)
EDITS: list[tuple[Edit, str, str]] = [
    (
        lambda p: _outcomes(p)["primaryOutcomes"][0].update(measure=NEW_MEASURE),
        f"→ {NEW_MEASURE}",
        "HIGH",
    ),
    (
        lambda p: _outcomes(p)["primaryOutcomes"][0].update(timeFrame="Week 104"),
        "Primary outcome time frame: Baseline up to Day 505 → Week 104",
        "NORMAL",
    ),
    (
        lambda p: _outcomes(p)["secondaryOutcomes"].append(
            {"measure": "Part 1: Change in Slow Vital Capacity", "timeFrame": "Day 505"}
        ),
        "Secondary outcomes: added Part 1: Change in Slow Vital Capacity",
        "NORMAL",
    ),
    (
        lambda p: _eligibility(p).update(
            eligibilityCriteria=_eligibility(p)["eligibilityCriteria"]
            + "\n2. Prior treatment with an antisense oligonucleotide."
        ),
        "Eligibility criteria: 1 line added, 0 removed",
        "NORMAL",
    ),
    (lambda p: _eligibility(p).update(sex="FEMALE"), "Eligibility: sex All → Female", "NORMAL"),
    (
        lambda p: _eligibility(p).update(minimumAge="12 Years"),
        "Eligibility: minimum age 10 Years → 12 Years",
        "NORMAL",
    ),
    (
        lambda p: _eligibility(p).update(maximumAge="65 Years"),
        "Eligibility: maximum age (none) → 65 Years",
        "NORMAL",
    ),
    (
        lambda p: _eligibility(p).update(healthyVolunteers=True),
        "Eligibility: healthy volunteers no → yes",
        "NORMAL",
    ),
    (lambda p: _arms(p)["armGroups"].pop(1), "Arm removed: Placebo (Placebo comparator)", "HIGH"),
    (lambda p: _arms(p)["interventions"].pop(1), "Intervention removed: Drug: Placebo", "HIGH"),
    (
        lambda p: _design(p).update(allocation="NON_RANDOMIZED"),
        "Allocation: Randomized → Non randomized",
        "HIGH",
    ),
    (
        lambda p: _design(p).update(interventionModel="CROSSOVER"),
        "Intervention model: Parallel → Crossover",
        "NORMAL",
    ),
    (
        lambda p: _design(p)["maskingInfo"].update(masking="NONE"),
        "Masking: Double → None (Open Label)",
        "HIGH",
    ),
    (
        lambda p: _design(p).update(primaryPurpose="PREVENTION"),
        "Primary purpose: Treatment → Prevention",
        "NORMAL",
    ),
]


def test_each_protocol_field_changed_once_alerts_once_with_its_severity(
    tmp_path: Path, db_url: str, registry: Registry
) -> None:
    config = fusion_config(tmp_path, db_url)
    protocol = registry.study["protocolSection"]
    clock = Clock()
    printed: list[str] = []

    def check() -> str:
        clock.advance(hours=2)
        before = len(printed)
        with open_app(load_settings(config, env={}), clock=clock, write=printed.append) as a:
            a.check()
        return "".join(printed[before:])

    assert "changed" not in check()  # baseline

    # The criteria re-flowed: other line breaks, indents and bullets, the same words.
    criteria = _eligibility(protocol)["eligibilityCriteria"]
    reflowed = criteria.replace(" at the time of", "\n   at the time\n of").replace("1. ", "* ")
    _eligibility(protocol)["eligibilityCriteria"] = reflowed
    polls = registry.calls
    assert re.findall(r"\[(HIGH|NORMAL|LOW)\]", check()) == []
    assert registry.calls > polls + 1  # not skipped as unchanged: the study was read again

    for edit, words, severity in EDITS:
        edit(protocol)
        out = check()
        assert re.findall(r"\[(HIGH|NORMAL|LOW)\]", out) == [severity], (words, out)
        assert words in out, out
