"""Secrets: read from the environment only, never from the config file, never logged."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, PrivateAttr, SecretStr

__all__ = ["Secrets"]


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
