"""A study's protocol as tracked fields (outcomes, eligibility, arms, interventions, design).

Pure. The live poll and the record history read a protocol section through `protocol_fields`,
so a version and a poll store the same values (docs/sources.md#clinicaltrialsgov).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from watchers.model import FieldValue
from watchers.text.coerce import as_map, read_enum, read_flag, read_list, read_map, read_text

__all__ = [
    "HIGH_IF_CHANGED",
    "HIGH_IF_REMOVED",
    "PROTOCOL_FIELDS",
    "criteria_items",
    "criteria_lines",
    "named_entries",
    "protocol_fields",
    "removed_names",
]

# Read paths for parse errors: "<module>.<key>".
Where = Callable[[str], str]

_SEP = " | "  # "<name> | <TYPE>": arms by label, interventions by name
# A list marker opening a criterion: bullets, dashes, "1." / "1)" / "a)" numbering.
_MARKER = re.compile(r"^\s*(?:[*\-+•·▪◦‣●○\u2013\u2014]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")

PROTOCOL_FIELDS = (
    "primary_outcomes",
    "primary_time_frames",
    "secondary_outcomes",
    "eligibility_criteria",
    "sex",
    "minimum_age",
    "maximum_age",
    "healthy_volunteers",
    "arms",
    "interventions",
    "allocation",
    "intervention_model",
    "masking",
    "primary_purpose",
)
# What a clinical team must hear first: the question or the blinding changed.
HIGH_IF_CHANGED = frozenset({"primary_outcomes", "masking", "allocation"})
# An arm or an intervention dropped from the study.
HIGH_IF_REMOVED = frozenset({"arms", "interventions"})


def criteria_items(text: str | None) -> tuple[str, ...] | None:
    """Criteria as items: one per list entry or paragraph, whitespace and markers dropped.

    A paragraph re-flowed over other lines, re-indented or re-bulleted gives the same items.
    """
    if text is None:
        return None
    items: list[list[str]] = []
    open_item = False
    for line in text.splitlines():
        if not line.strip():
            open_item = False
            continue
        marker = _MARKER.match(line)
        words = line[marker.end() :] if marker else line
        if marker or not open_item:
            items.append([])
            open_item = True
        items[-1].append(words)
    found = (" ".join(" ".join(parts).split()) for parts in items)
    return tuple(item for item in found if item)


def _entry(name: str | None, kind: str | None) -> str | None:
    if name is None:
        return None
    clean = " ".join(name.replace("|", "/").split())
    return f"{clean}{_SEP}{kind}" if kind else clean


def named_entries(value: FieldValue) -> dict[str, str]:
    """Stored arms or interventions -> {name: TYPE} ("" when the record gave no type)."""
    entries = value if isinstance(value, tuple) else ()
    return dict((*entry.split(_SEP, 1), "")[:2] for entry in entries)  # type: ignore[misc]


def removed_names(before: FieldValue, after: FieldValue) -> list[str]:
    """Names (arm labels, intervention names) one value has and the next has not."""
    now = named_entries(after)
    return sorted(name for name in named_entries(before) if name not in now)


def _texts(items: list[Any], key: str, where: str) -> list[str]:
    found = (read_text(as_map(item).get(key), where) for item in items)
    return [" ".join(text.split()) for text in found if text]


def protocol_fields(protocol: Mapping[str, Any], at: Where) -> dict[str, FieldValue]:
    """The tracked protocol fields of a `protocolSection`; a module it lacks reads as empty."""
    outcomes = read_map(protocol.get("outcomesModule"), at("outcomesModule"))
    primary = read_list(outcomes.get("primaryOutcomes"), at("primaryOutcomes"))
    secondary = read_list(outcomes.get("secondaryOutcomes"), at("secondaryOutcomes"))
    eligibility = read_map(protocol.get("eligibilityModule"), at("eligibilityModule"))
    arms_module = read_map(protocol.get("armsInterventionsModule"), at("armsInterventionsModule"))
    design = read_map(as_map(protocol.get("designModule")).get("designInfo"), at("designInfo"))
    masking = read_map(design.get("maskingInfo"), at("maskingInfo"))

    def entries(key: str, name: str) -> tuple[str, ...]:
        raw = read_list(arms_module.get(key), at(key))
        found = (
            _entry(
                read_text(as_map(item).get(name), at(f"{key}[].{name}")),
                read_enum(as_map(item).get("type"), at(f"{key}[].type")),
            )
            for item in raw
        )
        return tuple(sorted({entry for entry in found if entry}))

    return {
        # Measures are a set; time frames keep the registry's order (one per primary outcome).
        "primary_outcomes": tuple(sorted(set(_texts(primary, "measure", at("measure"))))),
        "primary_time_frames": tuple(_texts(primary, "timeFrame", at("timeFrame"))),
        "secondary_outcomes": tuple(sorted(set(_texts(secondary, "measure", at("measure"))))),
        "eligibility_criteria": criteria_items(
            read_text(eligibility.get("eligibilityCriteria"), at("eligibilityCriteria"))
        ),
        "sex": read_enum(eligibility.get("sex"), at("sex")),
        "minimum_age": read_text(eligibility.get("minimumAge"), at("minimumAge")),
        "maximum_age": read_text(eligibility.get("maximumAge"), at("maximumAge")),
        "healthy_volunteers": read_flag(
            eligibility.get("healthyVolunteers"), at("healthyVolunteers")
        ),
        "arms": entries("armGroups", "label"),
        "interventions": entries("interventions", "name"),
        "allocation": read_enum(design.get("allocation"), at("allocation")),
        "intervention_model": read_enum(design.get("interventionModel"), at("interventionModel")),
        "masking": read_enum(masking.get("masking"), at("masking")),
        "primary_purpose": read_enum(design.get("primaryPurpose"), at("primaryPurpose")),
    }


def _only_in(items: tuple[str, ...], other: tuple[str, ...]) -> list[str]:
    """Items of `items` that `other` lacks, counted as a multiset, in `items`' order."""
    extra = Counter(items) - Counter(other)
    found = []
    for item in items:
        if extra[item] > 0:
            extra[item] -= 1
            found.append(item)
    return found


def criteria_lines(before: FieldValue, after: FieldValue) -> list[str]:
    """ "Eligibility criteria: 2 lines added, 1 removed", then each line (+ added, - removed)."""
    old = before if isinstance(before, tuple) else ()
    new = after if isinstance(after, tuple) else ()
    added, removed = _only_in(new, old), _only_in(old, new)
    if not added and not removed:
        return []
    count = f"{len(added)} line{'s' if len(added) != 1 else ''} added, {len(removed)} removed"
    return [
        f"Eligibility criteria: {count}",
        *(f"+ {line}" for line in added),
        *(f"- {line}" for line in removed),
    ]
