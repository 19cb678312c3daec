"""Typed settings: a TOML file validated once at start-up, secrets only from the environment.

settings.py holds the models, topics.py the `[[topics]]` model, secrets.py the environment's
secrets, loading.py finding and reading the file, messages.py the wording of its errors.
"""

from bot.config.loading import (
    CONFIG_ENV,
    ConfigError,
    LoadedConfig,
    load_settings,
    resolve_config_path,
)
from bot.config.secrets import Secrets
from bot.config.settings import (
    DigestSettings,
    HttpSettings,
    NotifySettings,
    Settings,
    SourcesSettings,
    check_storage_url,
    parse_duration,
    parse_pause,
)
from bot.config.topics import TopicSettings, check_topic_name

__all__ = [
    "CONFIG_ENV",
    "ConfigError",
    "DigestSettings",
    "HttpSettings",
    "LoadedConfig",
    "NotifySettings",
    "Secrets",
    "Settings",
    "SourcesSettings",
    "TopicSettings",
    "check_storage_url",
    "check_topic_name",
    "load_settings",
    "parse_duration",
    "parse_pause",
    "resolve_config_path",
]
