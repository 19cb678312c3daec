"""Finding, reading and validating the config file: one ConfigError that names file and line."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.config.messages import describe
from bot.config.secrets import Secrets
from bot.config.settings import Settings

__all__ = [
    "CONFIG_ENV",
    "ConfigError",
    "LoadedConfig",
    "load_settings",
    "resolve_config_path",
]

CONFIG_ENV = "TRIALWATCH_CONFIG"
DEFAULT_CONFIG_NAME = "trialwatch.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the expectation."""


class LoadedConfig(BaseModel):
    """Settings plus where they came from and the secrets of this process."""

    model_config = ConfigDict(frozen=True)

    settings: Settings
    secrets: Secrets
    source: str


def resolve_config_path(cli_path: str | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """--config, else $TRIALWATCH_CONFIG, else ./trialwatch.toml; None: the embedded defaults."""
    if cli_path:
        return Path(cli_path)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = cwd / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_settings(
    cli_path: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> LoadedConfig:
    """Find, read and validate the configuration; raise ConfigError with a precise message."""
    env = os.environ if env is None else env
    path = resolve_config_path(cli_path, env, cwd or Path.cwd())
    if path is None:
        label = "embedded defaults (bot/default_config.toml)"
        text = resources.files("bot").joinpath("default_config.toml").read_text("utf-8")
    else:
        label = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{label}: cannot read the config file ({exc.strerror})") from None
        text = _utf8(label, data)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_syntax(label, text, exc)) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(_too_deep(label, text)) from None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe(label, exc, raw)) from None
    notify_envs = tuple(n.url_env for n in settings.notify if n.url_env)
    return LoadedConfig(settings=settings, secrets=Secrets.from_env(env, notify_envs), source=label)


def _utf8(label: str, data: bytes) -> str:
    """The file's text, or a ConfigError saying where the first byte that is not UTF-8 is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{label}, line {line}: not valid UTF-8 at byte {exc.start} "
            f"(0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


# Deeper than any real config; tomllib itself gives up some hundreds of levels down.
_DEEP = 64


def _too_deep(label: str, text: str) -> str:
    """`file, line N: nested too deeply`, N where arrays/inline tables pass _DEEP levels."""
    depth, quote = 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        for char in line:
            if quote:
                quote = "" if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > _DEEP:
                    return f"{label}, line {number}: nested too deeply (arrays or inline tables)"
            elif char in "]}":
                depth = max(depth - 1, 0)
    return f"{label}: nested too deeply (arrays or inline tables)"


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def _toml_syntax(label: str, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """`file, line N: what is wrong` and the line itself, as editors count lines."""
    message = str(exc)
    match = _AT.search(message)
    what = message[: match.start()] if match else message
    lines = text.splitlines()
    if match and match.group(1):
        number = int(match.group(1))
    else:  # at end of document: the last line with content is where the author should look
        number = max((i for i, line in enumerate(lines, 1) if line.strip()), default=1)
    shown = lines[number - 1] if 0 < number <= len(lines) else ""
    return f"{label}, line {number}: not valid TOML: {what}\n  {number} | {shown}"
