"""Pure formatters: Slack Block Kit alerts and console alerts. Source text is always escaped."""

from __future__ import annotations

from typing import Any

from bot.destinations.cut import truncate
from bot.links import web_link
from bot.slack.delivery.limits import HEADER_LIMIT, SECTION_LIMIT
from bot.terminal_text import one_line
from state.fields import source_label
from state.types import Alert, Change, ChangeKind, Severity

__all__ = [
    "alert_body_lines",
    "alert_console_text",
    "alert_fallback_text",
    "alert_headline",
    "mrkdwn_escape",
    "mrkdwn_link",
    "named_line",
    "slack_alert_blocks",
]

SEVERITY_MARK = {Severity.HIGH: "🔴", Severity.NORMAL: "🟡", Severity.LOW: "⚪"}
KIND_WORDS = {
    ChangeKind.NEW: "new",
    ChangeKind.UPDATED: "changed",
    ChangeKind.REMOVED: "removed",
    ChangeKind.SOURCE_DOWN: "source down",
    ChangeKind.SOURCE_RECOVERED: "source recovered",
    ChangeKind.CONFIRMED: "claim confirmed",
    ChangeKind.DEADLINE: "results clock",
    ChangeKind.HELD: "alerts held",
}


def mrkdwn_escape(text: str) -> str:
    """Escape &, < and > so source text cannot mention @channel, a user, or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_link(url: str, text: str) -> str:
    """A Slack link whose URL and label are both neutralised; plain escaped text without a
    web link (bot/links.py)."""
    href = web_link(url)
    if href is None:
        return mrkdwn_escape(text)
    safe_url = mrkdwn_escape(href).replace("|", "%7C")
    return f"<{safe_url}|{mrkdwn_escape(text).replace('|', '¦')}>"


def alert_headline(change: Change) -> str:
    """One line naming severity, topic, source and what happened."""
    return (
        f"{SEVERITY_MARK[change.severity]} {change.topic} · {source_label(change.source)} · "
        f"{KIND_WORDS[change.kind]}"
    )


def _facts(change: Change) -> list[str]:
    facts = [source_label(change.source)]
    if change.kind not in (ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED):
        facts.append(change.key)
    if change.matched_alias:
        facts.append(f"matched “{change.matched_alias}”")
    facts.append(f"severity {change.severity.value}")
    return facts


def named_line(change: Change) -> str | None:
    """Where a feed or news item names the topic: `Named in the headline` / `... in the text: …`."""
    if change.matched_in == "headline":
        return "Named in the headline"
    if change.matched_in == "text":
        return f"Named in the text: {change.excerpt}" if change.excerpt else "Named in the text"
    return None


def alert_body_lines(change: Change) -> list[str]:
    """What changed, in plain lines: fields, detail, where named, claim check, other outlets."""
    lines = [fc.text for fc in change.field_changes]
    if change.detail:
        lines.append(change.detail)
    if named := named_line(change):
        lines.append(named)
    if change.claim_label:
        lines.append(f"Claim check: {change.claim_label}")
    if change.also_reported_by:
        lines.append("Also reported by " + ", ".join(change.also_reported_by))
    return lines


def slack_alert_blocks(alert: Alert) -> list[dict[str, Any]]:
    """Block Kit blocks for one alert, within Slack's limits; long content is cut, not rejected."""
    change = alert.change
    link = web_link(change.url)
    link_suffix = f"\n… more at {mrkdwn_link(link, 'the record')}" if link else "\n…"
    title_text = f"*{mrkdwn_link(change.url, truncate(change.title, 500))}*"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(alert_headline(change), HEADER_LIMIT)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": title_text}},
    ]
    body = "\n".join(f"• {mrkdwn_escape(line)}" for line in alert_body_lines(change))
    if body:
        if len(body) > SECTION_LIMIT:
            body = truncate(body, SECTION_LIMIT - len(link_suffix), suffix="") + link_suffix
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    context = " · ".join(mrkdwn_escape(fact) for fact in _facts(change))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    if alert.notes:  # said at delivery, e.g. "posted despite snooze by @ana (high severity)"
        notes = "\n".join(mrkdwn_escape(note) for note in alert.notes)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": notes}]})
    return blocks


def alert_fallback_text(alert: Alert) -> str:
    """The plain-text fallback Slack shows in notifications; escaped like everything else."""
    change = alert.change
    lines = [alert_headline(change), change.title, *alert_body_lines(change), *alert.notes]
    if link := web_link(change.url):
        lines.append(link)
    return truncate(mrkdwn_escape("\n".join(lines)), 3900)


def alert_console_text(alert: Alert) -> str:
    """A readable multi-line rendering for a terminal."""
    change = alert.change
    lines = [
        f"{alert_headline(change)}  [{change.severity.value.upper()}]",
        f"  {change.title}",
    ]
    lines += [f"  • {line}" for line in alert_body_lines(change)]
    if link := web_link(change.url):  # terminals turn more than http(s) into clickable links
        lines.append(f"  {link}")
    lines.append("  " + " · ".join(_facts(change)))
    lines += [f"  {note}" for note in alert.notes]
    # Source text on a terminal: no escape sequences, and a newline in a field forges no line.
    return "\n".join(one_line(line) for line in lines)
