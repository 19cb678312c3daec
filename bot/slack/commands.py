"""The `/status` slash command: its text in, the acknowledgement payload (Block Kit) out.

Shared by the HTTP endpoint and Socket Mode. Reads stored state only: it never calls a source.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app import App, UnknownTopicError
from bot.destinations.cut import truncate
from bot.destinations.render import mrkdwn_escape
from bot.slack.delivery.limits import SECTION_LIMIT
from bot.slack.status_card import Block, status_blocks, status_fallback
from state.types import TopicStatus
from watchers.model import Topic

__all__ = ["StatusCommand", "StatusRequest", "parse_status_text"]

Payload = dict[str, Any]
USAGE = "Usage: `/status NAME` (a topic, an alias or an NCT id); add `public` to post it here."


@dataclass(frozen=True)
class StatusRequest:
    """What `/status ...` asked for: a name (empty: list topics) and whether to post publicly."""

    name: str
    public: bool = False


def parse_status_text(text: str) -> StatusRequest:
    """`ulefnersen public` -> (ulefnersen, public); a trailing `public` word is the only option."""
    words = text.split()
    public = bool(words) and words[-1].casefold() == "public"
    return StatusRequest(name=" ".join(words[:-1] if public else words), public=public)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def _topic_line(topic: Topic) -> str:
    also = ", ".join((*topic.aliases, *topic.trials))
    return f"• *{mrkdwn_escape(topic.name)}*" + (f" (also {mrkdwn_escape(also)})" if also else "")


class StatusCommand:
    """Answers `/status` from stored state: a card, the topic list, or a closest-match hint."""

    def __init__(
        self,
        topics: Sequence[Topic],
        resolve: Callable[[str], Topic],
        load_status: Callable[[str], TopicStatus],
        clock: Callable[[], datetime],
    ) -> None:
        self.topics = list(topics)
        self.resolve = resolve
        self.load_status = load_status
        self.clock = clock

    @classmethod
    def for_app(cls, app: App) -> StatusCommand:
        """The command over an App's topics and store."""
        return cls(app.topics, app.resolve_topic, app.topic_status, app.clock)

    def answer(self, text: str) -> Payload:
        """The slash-command acknowledgement payload for `text` (what follows `/status`)."""
        request = parse_status_text(text)
        if not request.name:
            return self._topic_list(request.public)
        try:
            topic = self.resolve(request.name)
        except UnknownTopicError:
            return self._unknown(request.name)
        status = self.load_status(topic.name)
        return {
            "response_type": "in_channel" if request.public else "ephemeral",
            "text": status_fallback(topic, status),
            "blocks": status_blocks(topic, status, now=self.clock()),
        }

    def closest(self, name: str) -> Topic | None:
        """The topic whose name, alias or trial id is most like `name`, if any is close."""
        owner = {n.casefold(): t for t in self.topics for n in (*t.names, *t.trials)}
        match = difflib.get_close_matches(name.casefold(), list(owner), n=1, cutoff=0.6)
        return owner[match[0]] if match else None

    def _topic_list(self, public: bool) -> Payload:
        lines = [_topic_line(t) for t in self.topics]
        return {
            "response_type": "in_channel" if public else "ephemeral",
            "text": "Watched topics: " + ", ".join(t.name for t in self.topics),
            "blocks": [_section("*Watched topics*\n" + "\n".join(lines)), _section(USAGE)],
        }

    def _unknown(self, name: str) -> Payload:
        # Always ephemeral: a typo is nobody else's business, even with `public`.
        guess = self.closest(name)
        hint = f" Did you mean *{mrkdwn_escape(guess.name)}*?" if guess else ""
        lines = [_topic_line(t) for t in self.topics]
        text = f"I don't watch “{mrkdwn_escape(truncate(name, 100))}”.{hint}"
        return {
            "response_type": "ephemeral",
            "text": text,
            "blocks": [
                _section(text),
                _section("*Known topics*\n" + "\n".join(lines)),
                _section(USAGE),
            ],
        }
