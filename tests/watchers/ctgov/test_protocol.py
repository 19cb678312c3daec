"""The protocol fields read from recorded ClinicalTrials.gov records, and how their changes read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from watchers.ctgov.protocol import criteria_items
from watchers.ctgov.watcher import FIELDS, parse_study
from watchers.model import Topic

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ctgov"
TOPIC = Topic("ulefnersen", aliases=("ION363",), trials=("NCT04768972",))


def load(name: str) -> dict[str, Any]:
    study: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return study


def test_every_poll_asks_for_the_outcomes_and_eligibility_modules() -> None:
    assert {"OutcomesModule", "EligibilityModule"} <= set(FIELDS.split("|"))


def test_protocol_fields_of_a_recorded_record_with_results() -> None:
    fields = parse_study(
        load("ctgov_full_study_with_results_aact_NCT05594173.json"), TOPIC, by_id=True
    ).fields
    assert fields["primary_outcomes"] == (
        "Number of Chewing Cycles Per Bolus",
        "Total Chewing Duration Per Bolus",
    )
    assert fields["primary_time_frames"] == ("Baseline (single timepoint only)",) * 2
    assert (fields["sex"], fields["minimum_age"], fields["maximum_age"]) == (
        "ALL",
        "18 Years",
        "60 Years",
    )
    assert fields["healthy_volunteers"] is True
    assert fields["interventions"] == ("Food texture modification | OTHER",)
    assert fields["arms"] == ()  # observational: no arm groups, no masking
    assert (fields["masking"], fields["allocation"]) == (None, None)
    assert fields["eligibility_criteria"] is not None
    assert fields["eligibility_criteria"][:2] == (
        "Inclusion Criteria:",
        "Healthy adults under age 60",
    )


def test_criteria_read_as_items_whatever_the_line_breaks_and_bullets() -> None:
    written = "Inclusion Criteria:\n\n1. Age 18 or older at the time of consent.\n2. ALS."
    reflowed = "Inclusion Criteria:\n\n  * Age 18 or older\n    at the time of  consent.\n- ALS."
    assert criteria_items(written) == criteria_items(reflowed)
    assert criteria_items(written) == (
        "Inclusion Criteria:",
        "Age 18 or older at the time of consent.",
        "ALS.",
    )
