"""The settings models: every key of the TOML file, validated once at start-up."""

from __future__ import annotations

from datetime import time as time_of_day
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from bot.config.topics import TopicSettings
from bot.destinations.quiet import QuietHours, check_window, check_zone
from bot.polling.fetch import DEFAULT_POLL_DEADLINE
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

__all__ = [
    "RESERVED_DESTINATIONS",
    "DigestSettings",
    "HttpSettings",
    "NotifySettings",
    "Settings",
    "SourcesSettings",
    "check_storage_url",
    "parse_duration",
    "parse_pause",
]

# Destination names of the built-in destinations; a [[notify]] entry may not take them.
RESERVED_DESTINATIONS = ("slack", "console")


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
    max_parallel: int = Field(default=32, ge=1, le=256)
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
