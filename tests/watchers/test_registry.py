"""The source registry: every spec declares every trait; a forgotten one is a red test."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import watchers
from state.poll.enrich import CLAIM_KINDS
from watchers.ctgov import spec as ctgov
from watchers.registry import (
    REGISTRY,
    UnknownSourceError,
    all_specs,
    find_spec,
    history_registries,
    source_label,
    spec_for,
)
from watchers.settings import SourceSettings
from watchers.spec import Folding, RecordHistory, Retention, Severity, SourceKind, SourceSpec
from watchers.wording import Wording


def _positive(span: object) -> bool:
    return isinstance(span, timedelta) and span > timedelta(0)


def _severity_rule(rule: object) -> bool:
    if not callable(rule):
        return False
    return isinstance(rule(True, {}, ()), Severity) and isinstance(rule(False, {}, ()), Severity)


def _claim_rules(rules: object) -> bool:
    return isinstance(rules, dict) and all(
        claim in CLAIM_KINDS and callable(rule) for claim, rule in rules.items()
    )


def _record_history(history: object) -> bool:
    """A history with a URL, whose id rule keeps its own ids and refuses another registry's."""
    return (
        isinstance(history, RecordHistory)
        and history.default_url.startswith("https://")
        and history.record_id("2023-503711-38-00") is None
        and history.record_id(" nct04768972 ") == "NCT04768972"
    )


# One check per trait of SourceSpec: what "declared" means for it.
TRAIT_CHECKS: dict[str, Callable[[Any], bool]] = {
    "id": lambda v: isinstance(v, str) and v != "" and ":" not in v,
    "label": lambda v: isinstance(v, str) and v.strip() != "",
    "kind": lambda v: isinstance(v, SourceKind),
    "official_evidence": lambda v: isinstance(v, bool),
    "folding": lambda v: isinstance(v, Folding),
    "severity": _severity_rule,
    "confirms": _claim_rules,
    "describe": lambda v: v is None or callable(v),
    "wording": lambda v: isinstance(v, Wording),
    "interval": _positive,
    "pacing": lambda v: isinstance(v, dict) and all(_positive(gap) for gap in v.values()),
    "retention": lambda v: isinstance(v, Retention),
    "max_data_age": lambda v: v is None or _positive(v),
    "config_section": lambda v: isinstance(v, str) and v != "",
    "instances": lambda v: isinstance(v, bool),
    "settings": lambda v: isinstance(v, type) and issubclass(v, SourceSettings),
    "build": callable,
    "history": lambda v: v is None or _record_history(v),
    "by_authority": lambda v: (
        isinstance(v, dict)
        and all(isinstance(s, SourceSpec) and not s.by_authority for s in v.values())
    ),
}


def missing_traits(spec: SourceSpec) -> list[str]:
    """The traits `spec` lacks or declares wrongly, plus contradictions between traits."""
    missing = [name for name, check in TRAIT_CHECKS.items() if not check(getattr(spec, name))]
    if spec.confirms and not spec.official_evidence:
        missing.append("confirms (but not official evidence)")
    return missing


def test_every_trait_of_a_spec_has_a_check() -> None:
    assert [f.name for f in dataclasses.fields(SourceSpec)] == list(TRAIT_CHECKS)


@pytest.mark.parametrize("spec", list(all_specs()), ids=lambda s: f"{s.id}:{s.kind.value}")
def test_every_registered_spec_declares_every_trait(spec: SourceSpec) -> None:
    assert missing_traits(spec) == []


@pytest.mark.parametrize(
    "trait", [n for n in TRAIT_CHECKS if n not in ("describe", "max_data_age", "history")]
)
def test_a_removed_trait_is_caught(trait: str) -> None:
    removed: dict[str, Any] = {trait: None}
    broken = dataclasses.replace(ctgov.SPEC, **removed)
    assert trait in missing_traits(broken)


def test_only_clinicaltrials_gov_records_have_a_history_and_only_nct_ids() -> None:
    assert list(history_registries()) == [ctgov.SOURCE]
    greedy = RecordHistory(default_url="https://clinicaltrials.gov/api/int", record_id=str)
    assert "history" in missing_traits(dataclasses.replace(ctgov.SPEC, history=greedy))


def test_a_spec_without_a_trait_cannot_even_be_declared() -> None:
    declared = {f.name: getattr(ctgov.SPEC, f.name) for f in dataclasses.fields(SourceSpec)}
    del declared["retention"]
    with pytest.raises(TypeError, match="retention"):
        SourceSpec(**declared)


def test_every_source_package_with_a_spec_is_registered() -> None:
    declared = []
    for package in pkgutil.iter_modules(watchers.__path__):
        if not package.ispkg or package.name in ("net", "text"):
            continue
        spec = getattr(importlib.import_module(f"watchers.{package.name}.spec"), "SPEC", None)
        if isinstance(spec, SourceSpec):
            declared.append(spec.id)
    assert sorted(declared) == sorted(s.id for s in REGISTRY)


def test_ids_and_config_sections_are_unique() -> None:
    assert len({s.id for s in REGISTRY}) == len(REGISTRY)
    assert len({s.config_section for s in REGISTRY}) == len(REGISTRY)


def test_a_feed_is_the_kind_its_authority_says() -> None:
    feed = spec_for("feed:FDA press releases")
    kinds = {a: feed.for_fields({"_authority": a}).kind for a in ("FDA", "EMA", "company", "news")}
    assert kinds == {
        "FDA": SourceKind.REGULATOR_FEED,
        "EMA": SourceKind.REGULATOR_FEED,
        "company": SourceKind.COMPANY,
        "news": SourceKind.NEWS,
    }
    official = {a for a in kinds if feed.for_fields({"_authority": a}).official_evidence}
    assert official == {"FDA", "EMA"}


@pytest.mark.parametrize("source", ["nosuch", "clinicaltrials:x", "feed", "feed:"])
def test_an_unknown_source_is_an_error_not_a_default(source: str) -> None:
    assert find_spec(source) is None
    with pytest.raises(UnknownSourceError, match=r"watchers/registry\.py"):
        spec_for(source)


def test_labels_come_from_the_spec() -> None:
    assert [source_label(s.id) for s in REGISTRY if not s.instances] == [
        s.label for s in REGISTRY if not s.instances
    ]
    assert source_label("feed:EMA news") == "EMA news"
    assert source_label("retired_source") == "retired_source"  # old rows still display
