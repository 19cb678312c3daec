"""Topics as the watchers see them, and finding one by its name, an alias or a trial id."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from bot.config import Settings
from watchers.model import Topic
from watchers.registry import trial_registries

__all__ = ["UnknownTopicError", "find_topic", "topics_from_settings"]


class UnknownTopicError(LookupError):
    """A name that is neither a topic, an alias, nor a trial id known to any topic."""


def topics_from_settings(settings: Settings) -> list[Topic]:
    """Topics as the watchers see them."""
    return [
        Topic(
            name=t.name,
            aliases=t.aliases,
            trials=t.trials,
            eu_trials=t.eu_trials,
            conditions=t.conditions,
            slack_channel=t.slack_channel,
        )
        for t in settings.topics
    ]


def find_topic(
    topics: Sequence[Topic], name: str, stored_keys: Callable[[str, str], Collection[str]]
) -> Topic:
    """A topic by its name, else an alias, else a trial id (case-insensitive); then by a trial
    id a trial registry stored for it (`stored_keys(topic, source)`)."""
    wanted = name.strip().casefold()
    # In this order: a topic named like another topic's trial is found by its own name.
    for keys in (lambda t: (t.name,), lambda t: t.aliases, lambda t: t.trials):
        for topic in topics:
            if wanted in {key.casefold() for key in keys(topic)}:
                return topic
    for topic in topics:
        for registry in trial_registries():
            if wanted.upper() in stored_keys(topic.name, registry):
                return topic
    raise UnknownTopicError(name)
