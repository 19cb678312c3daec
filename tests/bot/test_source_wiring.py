"""Sources are wired by their specs: no source id is spelled in state/ or bot/."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from bot.config import HttpSettings, Secrets, Settings, SourcesSettings
from bot.polling.sources import build_watchers, host_intervals, source_intervals
from watchers.net.http import Http
from watchers.registry import REGISTRY, wording

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_SEC_SETTINGS = {"contact": "Trialwatch Tests ops@pharma.test"}


def test_every_config_section_has_a_spec_and_every_spec_a_section() -> None:
    assert sorted(SourcesSettings.model_fields) == sorted(s.config_section for s in REGISTRY)


def test_every_source_is_built_from_its_spec_when_its_section_is_present() -> None:
    sections = {
        s.config_section: ([{"name": "x", "url": "https://x.test/"}] if s.instances else {})
        for s in REGISTRY
    }
    sections["sec_edgar"] = REQUIRED_SEC_SETTINGS  # SEC refuses requests without a contact
    settings = Settings.model_validate({"topics": [{"name": "t"}], "sources": sections})
    with httpx.Client() as client:
        built = build_watchers(settings, Secrets(), Http(client))
    assert [w.source for w in built] == [s.source_id(_Entry("x")) for s in REGISTRY]
    assert set(source_intervals(settings)) >= {w.source for w in built}


class _Entry:
    def __init__(self, name: str) -> None:
        self.name = name


def test_pacing_comes_from_the_specs_unless_the_file_sets_min_interval() -> None:
    paced = host_intervals(HttpSettings())
    assert paced["clinicaltrials.gov"] == 1.0
    assert paced["eutils.ncbi.nlm.nih.gov"] == pytest.approx(1 / 3)
    assert paced["api.fda.gov"] == pytest.approx(0.25)
    assert host_intervals(HttpSettings.model_validate({"min_interval": 0.5})) == {}


def _source_literals(path: Path) -> list[str]:
    ids = {s.id for s in REGISTRY}
    prefixes = tuple(f"{s.id}:" for s in REGISTRY if s.instances)
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if node.value in ids or node.value.startswith(prefixes):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("package", ["state", "bot"])
def test_no_source_id_is_spelled_outside_its_spec(package: str) -> None:
    found = [hit for p in sorted((ROOT / package).rglob("*.py")) for hit in _source_literals(p)]
    assert found == []


def test_each_section_is_read_by_its_own_sources_settings_model() -> None:
    sections = {
        s.config_section: ([{"name": "x", "url": "https://x.test/"}] if s.instances else {})
        for s in REGISTRY
    }
    sections["sec_edgar"] = REQUIRED_SEC_SETTINGS
    settings = Settings.model_validate({"topics": [{"name": "t"}], "sources": sections})
    for spec in REGISTRY:
        section = getattr(settings.sources, spec.config_section)
        entries = section if spec.instances else (section,)
        assert entries and all(type(e) is spec.settings for e in entries), spec.id


def test_bot_config_declares_no_source_section() -> None:
    """Adding a source never edits bot/config/: its keys come from the registry."""
    sections = {s.config_section for s in REGISTRY}
    modules = sorted((ROOT / "bot" / "config").glob("*.py"))
    assert modules
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        named = {n.target.id for n in ast.walk(tree) if isinstance(n, ast.AnnAssign)} | {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        assert sorted(named & sections) == [], module.name


def _meaningful_fields() -> set[str]:
    """The fields a spec says mean something (a trial's status, dates, results clock, ...)."""
    words = wording()
    clock = words.results_clock
    return {
        *(f for f in (words.status, words.last_known_status) if f),
        *words.key_facts,
        *(f for f, _ in words.dates),
        *((clock.regulated, clock.completion, *clock.posted) if clock else ()),
        *words.sequences,
        *words.enums,
        *words.value_words,
    }


@pytest.mark.parametrize(
    "module",
    ["state/fields.py", "state/timeline.py", "state/compliance.py", "bot/status/terminal.py"],
)
def test_field_meanings_come_from_the_specs(module: str) -> None:
    fields = _meaningful_fields()
    tree = ast.parse((ROOT / module).read_text("utf-8"))
    found = [
        f"{module}:{n.lineno}: {n.value!r}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and n.value in fields
    ]
    assert found == []
