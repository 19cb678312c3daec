"""The import contracts of pyproject.toml hold: layers, independent sources, no cycle."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_bot_state_watchers_layers_independent_sources_and_no_cycles() -> None:
    # Exit status 0 only when every contract is kept (scripts/test runs the same check).
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
