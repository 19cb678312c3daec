"""Rooms you can find (issue 24): short modules, small folders, Slack code in one place."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("bot", "state", "watchers")
MAX_LINES = 400
MAX_MODULES_PER_FOLDER = 15


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def test_no_production_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PRODUCTION
        for path in _modules(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_folder_of_bot_holds_more_than_15_modules() -> None:
    folders = {path.parent for path in _modules("bot")}
    crowded = {}
    for folder in folders:
        modules = [p for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
        if len(modules) > MAX_MODULES_PER_FOLDER:
            crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert crowded == {}


def test_slack_code_lives_under_bot_slack() -> None:
    slack = ROOT / "bot" / "slack"
    assert (slack / "delivery" / "destination.py").is_file()
    elsewhere = [
        str(path.relative_to(ROOT))
        for path in _modules("bot")
        if not path.is_relative_to(slack)
        and any("slack" in part or part == "triage" for part in path.relative_to(ROOT).parts)
    ]
    assert elsewhere == []


def test_state_holds_at_most_20_modules_at_its_top_level() -> None:
    top = [p for p in (ROOT / "state").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 20, sorted(p.name for p in top)


def test_each_table_is_defined_once_in_the_schema() -> None:
    # SQLModel tables say `table=True`; Core tables are built with `Table(`. Only the schema may.
    defining = sorted(
        str(path.relative_to(ROOT))
        for package in PRODUCTION
        for path in _modules(package)
        if "migrations" not in path.parts
        and ("table=True" in (text := path.read_text(encoding="utf-8")) or "Table(" in text)
    )
    assert defining == ["state/schema.py"]
