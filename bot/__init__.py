"""trialwatch application: config, orchestration, delivery, commands and service."""

from bot.no_httpx_cli import install

install()
