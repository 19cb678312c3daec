"""The import contracts of pyproject.toml hold: layers, independent sources, no cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# In its own process: import-linter's CLI calls logging.config.dictConfig, which disables every
# logger that exists, and the tests after it on this worker would capture no log record.
CHECK = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True))"
)


def test_bot_state_watchers_layers_independent_sources_and_no_cycles() -> None:
    # Exit status 0 only when every contract is kept (scripts/test runs the same check).
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
