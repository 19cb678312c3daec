"""The Dockerfile, checked statically (no Docker engine here), and its HEALTHCHECK run for real."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, parts = [], []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        joined.append(" ".join([*parts, stripped]))
        parts = []
    assert not parts, "the Dockerfile ends inside a continued line"
    result = []
    for text in joined:
        keyword, _, rest = text.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def only(keyword: str) -> str:
    found = [args for kw, args in instructions() if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list)
    return [str(v) for v in value]


def healthcheck_command() -> list[str]:
    args = only("HEALTHCHECK")
    assert " CMD " in f" {args} "
    return exec_form(args.split("CMD", 1)[1].strip())


def test_base_is_the_official_slim_python_image() -> None:
    base = only("FROM")
    assert base.startswith("python:3.1") and "-slim" in base


def test_runs_as_an_unprivileged_user() -> None:
    kinds = [kw for kw, _ in instructions()]
    user = only("USER")
    assert user not in ("root", "0", "0:0")
    # Everything after USER (the entrypoint included) runs as that user.
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")


def test_installs_the_package_from_the_checkout() -> None:
    copies = [args for kw, args in instructions() if kw == "COPY"]
    for needed in ("pyproject.toml", "bot", "state", "watchers"):
        assert any(needed in c.split() for c in copies), needed
    assert any(kw == "RUN" and "pip install ." in args for kw, args in instructions())


def test_starts_the_service_with_config_and_data_in_their_places() -> None:
    assert exec_form(only("ENTRYPOINT")) == ["trialwatch"]
    assert exec_form(only("CMD")) == ["run"]
    assert "/data" in exec_form(only("VOLUME"))
    assert only("EXPOSE") == "8080"
    assert any(
        kw == "ENV" and "TRIALWATCH_CONFIG=/config/trialwatch.toml" in args
        for kw, args in instructions()
    )


def test_healthcheck_asks_healthz_without_curl() -> None:
    command = healthcheck_command()
    assert command[0] == "python" and "urllib" in command[-1]
    assert "http://127.0.0.1:8080/healthz" in command[-1]


def test_the_image_never_gets_local_databases_configs_or_the_venv() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".git", ".venv", "tests", "**/*.db", "trialwatch.toml", "**/.env"):
        assert pattern in ignored


def test_every_data_file_the_package_reads_is_installed() -> None:
    """`pip install .` (not editable) ships only declared package data: templates included."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]
    for package in ("bot", "state", "watchers"):
        for path in (ROOT / package).rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / package).as_posix()
            wanted = [*patterns.get("*", []), *patterns.get(package, [])]
            assert any(fnmatch.fnmatch(relative, p) for p in wanted), f"{package}/{relative}"


@contextmanager
def healthz(status: int) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the loop to notice, once per poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_healthcheck(url: str) -> int:
    command = [sys.executable, *healthcheck_command()[1:]]
    env = {**os.environ, "TRIALWATCH_HEALTHZ_URL": url}
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_follows_healthz(status: int, healthy: bool) -> None:
    with healthz(status) as url:
        assert (run_healthcheck(url) == 0) is healthy


def test_the_healthcheck_fails_when_nothing_answers() -> None:
    with healthz(200) as url:
        pass  # the server is gone again: its port refuses connections
    assert run_healthcheck(url) != 0
