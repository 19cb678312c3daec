"""Typed settings: a TOML file validated once at start-up, secrets only from the environment."""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
import unicodedata
from collections.abc import Mapping
from datetime import time as time_of_day
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from bot.calendar.milestones import Milestone
from bot.destinations.quiet import QuietHours, check_window, check_zone
from watchers.net.deadline import DEFAULT_POLL_DEADLINE
from watchers.registry import REGISTRY
from watchers.settings import (
    Duration,
    HttpUrl,
    Pause,
    parse_duration,
    parse_pause,
)
from watchers.settings import StrictSettings as _Strict
from watchers.spec import SourceSpec
from watchers.text.trial_ids import nct_id

__all__ = [
    "ConfigError",
    "LoadedConfig",
    "NotifySettings",
    "Secrets",
    "Settings",
    "load_settings",
    "parse_duration",
    "parse_pause",
    "resolve_config_path",
]

CONFIG_ENV = "TRIALWATCH_CONFIG"
# Destination names of the built-in destinations; a [[notify]] entry may not take them.
RESERVED_DESTINATIONS = ("slack", "console")
DEFAULT_CONFIG_NAME = "trialwatch.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the expectation."""


_URL_EXAMPLES = "sqlite:///trialwatch.db or postgresql+psycopg://user@host:5432/trialwatch"


def check_storage_url(url: str) -> None:
    """Raise ValueError saying what is wrong with a [storage].url (never echoing a password)."""
    # Imported here: `trialwatch --help` should not load the database toolkit.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL; expected one like {_URL_EXAMPLES}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "postgresql":
        if driver not in ("psycopg", "postgresql"):  # plain postgresql:// means psycopg here
            raise ValueError(
                f"the PostgreSQL driver {driver!r} is not installed; use postgresql+psycopg://"
            )
        return
    if backend != "sqlite":
        raise ValueError(f"unsupported database {backend!r}; expected {_URL_EXAMPLES}")
    if parsed.host or not parsed.database:
        raise ValueError(
            "a SQLite URL has three slashes before a relative path (sqlite:///trialwatch.db) "
            "and four before an absolute one (sqlite:////var/lib/trialwatch/trialwatch.db)"
        )
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return
    folder = Path(parsed.database).expanduser().parent
    if not folder.is_dir():
        raise ValueError(f"the directory {str(folder)!r} does not exist; create it or fix the path")


class StorageSettings(_Strict):
    url: str = "sqlite:///trialwatch.db"
    # Superseded poll-run rows older than this are pruned; alerts and deliveries are kept.
    retention_days: int = Field(default=90, ge=1)

    @field_validator("url")
    @classmethod
    def _usable_url(cls, url: str) -> str:
        check_storage_url(url)
        return url


# A topic's name is a path segment of its dashboard link and an argument of `status`: these
# would cut, end or re-encode the URL. Control and format (bidi, zero-width) characters make a
# name that prints differently from how it is typed.
_URL_BREAKING = "/?#%\\"
_UNSEEN = {"Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp"}  # spaces other than " " look like " "


def check_topic_name(name: str) -> str:
    """The name unchanged, or ValueError saying which characters a topic name may hold."""
    unseen = any(unicodedata.category(c) in _UNSEEN and c != " " for c in name)
    breaking = any(c in _URL_BREAKING for c in name)
    # "." and ".." are resolved away by browsers; "" and " x " are not what a user types.
    if unseen or breaking or name != name.strip() or not name.strip("."):
        raise ValueError(
            "a topic name is part of its dashboard link and of `trialwatch status NAME`: use "
            "letters, digits, spaces and punctuation other than / ? # % \\, with no control "
            "characters, no space at either end, and not only dots"
        )
    return name


class TopicSettings(_Strict):
    name: Annotated[str, AfterValidator(check_topic_name)]
    aliases: tuple[str, ...] = ()
    trials: tuple[str, ...] = ()
    # EU trial numbers: EudraCT (2020-005522-28) or CTIS (2025-523333-26-00).
    eu_trials: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    slack_channel: str | None = None
    milestones: tuple[Milestone, ...] = ()  # team-entered guidance (bot/calendar)

    @field_validator("trials")
    @classmethod
    def _nct_ids(cls, trials: tuple[str, ...]) -> tuple[str, ...]:
        ids = tuple(nct_id(trial) for trial in trials)
        for trial, found in zip(trials, ids, strict=True):
            if found is None:
                raise ValueError(f"{trial!r} is not an NCT id like NCT04768972")
        return tuple(found for found in ids if found is not None)

    @field_validator("eu_trials")
    @classmethod
    def _eu_numbers(cls, trials: tuple[str, ...]) -> tuple[str, ...]:
        for trial in trials:
            if not re.fullmatch(r"\d{4}-\d{6}-\d{2}(?:-\d{2})?", trial.strip()):
                raise ValueError(
                    f"{trial!r} is not an EU trial number like 2020-005522-28 (EudraCT) "
                    "or 2025-523333-26-00 (CTIS)"
                )
        return tuple(t.strip() for t in trials)


class _SourceSections(_Strict):
    """`[sources]`: one key per registered source, its value the source's own settings model."""

    if TYPE_CHECKING:  # mypy sees each section as Any; pydantic validates the model built below

        def __getattr__(self, section: str) -> Any: ...


def _section(spec: SourceSpec) -> tuple[Any, Any]:
    """A `[sources]` key's type and default: one table, or a list of named entries."""
    if spec.instances:
        return tuple[spec.settings, ...], ()  # type: ignore[name-defined]
    return spec.settings | None, None


# Built from the registry: a new source adds its key here without editing this file.
if TYPE_CHECKING:
    SourcesSettings = _SourceSections
else:
    SourcesSettings = create_model(
        "SourcesSettings",
        __base__=_SourceSections,
        **{spec.config_section: _section(spec) for spec in REGISTRY},
    )


class _QuietHoursKeys(_Strict):
    """`quiet_hours` and `timezone` of a destination: normal and low alerts wait through them."""

    quiet_hours: str | None = None  # "20:00-07:00": local wall-clock time, may span midnight
    # An IANA name; required with quiet_hours: a silent UTC default would shift a team's night.
    timezone: str | None = Field(default=None, validate_default=True)

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, window: str | None) -> str | None:
        if window is not None:
            check_window(window)
        return window

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str | None, info: ValidationInfo) -> str | None:
        if zone is not None:
            check_zone(zone)
        elif info.data.get("quiet_hours") is not None:
            raise ValueError(
                "is required with quiet_hours: an IANA name like 'Europe/Zurich' "
                '(timezone = "UTC" for UTC)'
            )
        return zone

    @property
    def quiet(self) -> QuietHours | None:
        """The quiet hours, when configured."""
        if self.quiet_hours is None or self.timezone is None:
            return None
        return QuietHours.parse(self.quiet_hours, self.timezone)


class SlackSettings(_QuietHoursKeys):
    api_url: HttpUrl = "https://slack.com/api/"
    channel: str | None = None


class NotifySettings(_QuietHoursKeys):
    """One [[notify]] destination: any Apprise URL, from the file or (with secrets) the env."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    topics: tuple[str, ...] = ()  # empty: every topic
    min_severity: Literal["low", "normal", "high"] = "low"

    @model_validator(mode="after")
    def _one_url(self) -> NotifySettings:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url (no secrets) or url_env (an env variable)")
        if self.url is not None and "://" not in self.url:
            raise ValueError("url must be an Apprise URL such as json://host/path")
        return self


class DigestSettings(_Strict):
    to: tuple[str, ...] = ()
    sender: str = "trialwatch@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    time: time_of_day = time_of_day(8, 0)
    timezone: str = "UTC"
    send_when_quiet: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone like 'Europe/Zurich'") from None
        return zone


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class AlertsSettings(_Strict):
    # More alerts than this from one poll of a (topic, source) are held, with one alert saying
    # so: a format change at a source must not flood the channel (`trialwatch release`).
    max_per_poll: int = Field(default=20, ge=1)


class HealthSettings(_Strict):
    failures_before_alert: int = Field(default=3, ge=1)


class HttpSettings(_Strict):
    timeout: Duration = 20.0
    min_interval: Pause = 1.0  # seconds between two requests to the same host; 0: pacing off
    # Polls in flight at once (each source's topics in turn): hosts proceed in parallel while
    # each host keeps its own pacing.
    max_parallel: int = Field(default=16, ge=1, le=256)
    max_retries: int = Field(default=3, ge=0, le=10)
    backoff: Duration = 1.0  # first retry delay; doubles each attempt (Retry-After wins)
    max_body_mb: float = Field(default=20.0, gt=0)
    # One poll's whole budget: connect, every byte, retries and their waits, every page.
    poll_deadline: Duration = Field(default=DEFAULT_POLL_DEADLINE, gt=0)


class Settings(_Strict):
    """The whole validated configuration (secrets excluded: see Secrets)."""

    storage: StorageSettings = StorageSettings()
    topics: tuple[TopicSettings, ...] = Field(min_length=1)
    sources: SourcesSettings = SourcesSettings()
    slack: SlackSettings = SlackSettings()
    notify: tuple[NotifySettings, ...] = ()
    digest: DigestSettings | None = None
    server: ServerSettings = ServerSettings()
    health: HealthSettings = HealthSettings()
    alerts: AlertsSettings = AlertsSettings()
    http: HttpSettings = HttpSettings()

    @model_validator(mode="after")
    def _unique_topics(self) -> Settings:
        seen: dict[str, str] = {}
        for topic in self.topics:
            for name in (topic.name, *topic.aliases):
                other = seen.setdefault(name.casefold(), topic.name)
                if other != topic.name:
                    raise ValueError(
                        f"name {name!r} is used by topics {other!r} and {topic.name!r}"
                    )
        return self

    @model_validator(mode="after")
    def _known_notify_names_and_topics(self) -> Settings:
        names: set[str] = set()
        topics = {t.name for t in self.topics}
        for entry in self.notify:
            if entry.name.casefold() in names | set(RESERVED_DESTINATIONS):
                raise ValueError(f"[[notify]] name {entry.name!r} is used twice or reserved")
            names.add(entry.name.casefold())
            unknown = sorted(set(entry.topics) - topics)
            if unknown:
                raise ValueError(f"[[notify]] {entry.name!r}: unknown topic(s) {unknown}")
        return self


class Secrets(BaseModel):
    """Secrets read from the environment only; SecretStr keeps them out of reprs and logs."""

    model_config = ConfigDict(frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    smtp_username: SecretStr | None = None
    smtp_password: SecretStr | None = None
    openfda_api_key: SecretStr | None = None
    ncbi_api_key: SecretStr | None = None
    # The dashboard's bearer token, required when [server].host is not a loopback address.
    trialwatch_dashboard_token: SecretStr | None = None
    # The token in the URL of subscribed feeds (iCalendar, Atom) off loopback: calendar apps
    # and feed readers cannot send headers (bot/service/url_token.py).
    trialwatch_feed_token: SecretStr | None = None
    # [[notify]] URLs given by url_env, by variable name (they carry webhook tokens). Private:
    # the fields above are the fixed secrets, each named after its variable.
    _notify_urls: dict[str, SecretStr] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], notify_envs: tuple[str, ...] = ()) -> Secrets:
        """Read every known secret variable and the [[notify]] ones; empty counts as unset."""
        secrets = cls.model_validate(
            {name: env.get(name.upper()) or None for name in cls.model_fields}
        )
        secrets._notify_urls = {n: SecretStr(env[n]) for n in notify_envs if env.get(n)}
        return secrets

    def notify_url(self, variable: str) -> SecretStr | None:
        """The [[notify]] URL read from `variable`, if it was set."""
        return self._notify_urls.get(variable)

    def values(self) -> list[str]:
        """Every secret that is set, for log redaction."""
        found = [getattr(self, name) for name in type(self).model_fields]
        found += self._notify_urls.values()
        return [s.get_secret_value() for s in found if s is not None]


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
        raise ConfigError(_describe(label, exc, raw)) from None
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


def _describe(label: str, exc: ValidationError, raw: object) -> str:
    lines = [f"{label}: invalid configuration"]
    errors = exc.errors()
    # A topic with a bad key also fails the "at least one topic" check: only the first is true.
    nested = {e["loc"][0] for e in errors if len(e["loc"]) > 1}
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and len(loc) == 1 and loc[0] in nested:
            continue
        key = _key(loc, raw)
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(_fields_at(loc[:-1]))) or "none"
            lines.append(f"  {key}: unknown key (allowed here: {allowed})")
        elif error["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        else:
            # TOML has no null: an input of None is a key that was left out.
            hidden = key == "storage.url" or error.get("input") is None
            shown = "" if hidden else f" (got {_toml_value(error.get('input'))})"
            lines.append(f"  {key}: {_toml_words(error)}{shown}")
    return "\n".join(lines)


def _key(loc: tuple[int | str, ...], raw: object) -> str:
    """`topics[2] "tofersen".trials`: an array item counted from 1, and named when it has one."""
    key, node = "", raw
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            key += f"[{part + 1}]" + (f" {_toml_value(name)}" if isinstance(name, str) else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            key = f"{key}.{part}" if key else part
    return key or "(top level)"


# Pydantic speaks Python (tuple, dictionary); a config author reads TOML (array, table).
_TOML_WORDS = {
    "tuple_type": 'expected an array, e.g. ["a", "b"]',
    "list_type": 'expected an array, e.g. ["a", "b"]',
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string in quotes",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "time_type": 'expected a time like "08:00"',
    "time_parsing": 'expected a time like "08:00"',
}


def _toml_words(error: Any) -> str:
    if (words := _TOML_WORDS.get(error["type"])) is not None:
        return words
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Tuple", "array").replace("tuple", "array")


def _toml_value(value: Any) -> str:
    """A short TOML-ish rendering of what was found: never a whole table dumped."""
    if isinstance(value, dict):
        return "a table" if value else "an empty table"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item(s)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:59] + "…"
        # Control and bidi characters shown as escapes: they could forge or reorder the message.
        shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
        return '"' + shown.replace('"', '\\"') + '"'
    return repr(value)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model at `loc`, walking list indexes and Optional wrappers."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return []
        model = _model_in(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation
