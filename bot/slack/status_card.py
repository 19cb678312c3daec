"""The `/status` card as Slack Block Kit, from stored state only; pure, all stored text escaped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.destinations.cut import truncate
from bot.destinations.render import KIND_WORDS, SEVERITY_MARK, mrkdwn_escape, mrkdwn_link
from bot.slack.delivery.limits import HEADER_LIMIT, MAX_BLOCKS, SECTION_LIMIT, fit_blocks
from bot.status.overview import ALERTS_HEADING, alerts_left_out, failing, failing_lines
from bot.status.terminal import (
    alert_summary,
    destination_text,
    format_time,
    health_text,
    history_health_text,
    link_registries,
    trial_facts,
    trials_missing_reason,
)
from bot.status.triage_lines import triage_lines
from state.fields import humanize_enum, source_label, status_words
from state.status import CARD_ALERTS
from state.timeline import timeline_lines
from state.types import Alert, HistoryHealth, SourceHealth, StoredObservation, TopicStatus
from watchers.model import Topic

__all__ = ["MAX_ALERTS", "MAX_BLOCKS", "MAX_TRIALS", "Block", "status_blocks", "status_fallback"]

Block = dict[str, Any]

# Trials shown in full; a condition search can find dozens, the rest are listed by id.
MAX_TRIALS = 8
# Alerts shown in full (the most important first); the rest are counted, with where to see them.
MAX_ALERTS = CARD_ALERTS
_TITLE_LIMIT = 200


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def _context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}],
    }


def _ordered_trials(topic: Topic, trials: tuple[StoredObservation, ...]) -> list[StoredObservation]:
    """The topic's own trials in config order, then what searches found, latest change first."""
    own = {key: i for i, key in enumerate(topic.trials)}
    found = sorted(
        (t for t in trials if t.observation.key not in own),
        key=lambda t: t.last_changed,
        reverse=True,
    )
    mine = sorted(
        (t for t in trials if t.observation.key in own), key=lambda t: own[t.observation.key]
    )
    return mine + found


def _trial_status(stored: StoredObservation) -> str:
    return status_words(stored.observation.fields)


def _trial_block(
    stored: StoredObservation, linked: list[StoredObservation], now: datetime, timeline: list[str]
) -> Block:
    obs = stored.observation
    title = truncate(obs.title, _TITLE_LIMIT)
    lines = [f"*{mrkdwn_link(obs.url, obs.key)}* {mrkdwn_escape(title)}"]
    if stored.removed_at:
        lines.append(f"*Removed from the registry* {format_time(stored.removed_at)}")
    for label, value, when in trial_facts(stored, linked, now=now):
        lines.append(f"• {mrkdwn_escape(label)}: *{mrkdwn_escape(value)}*  _{when}_")
    lines += [f"• {mrkdwn_escape(line)}" for line in timeline]
    return _section("\n".join(lines))


def _more_trials_block(rest: list[StoredObservation]) -> Block:
    listed = ", ".join(
        f"{mrkdwn_link(t.observation.url, t.observation.key)} ({mrkdwn_escape(_trial_status(t))})"
        for t in rest
    )
    return _section(f"…and {len(rest)} more trial(s) found by searches: {listed}")


def _alert_block(alert: Alert) -> Block:
    change = alert.change
    mark = SEVERITY_MARK.get(change.severity, "")
    kind = KIND_WORDS.get(change.kind, change.kind.value)
    head = (
        f"{mark} *{change.severity.value}* · {mrkdwn_escape(kind)} · "
        f"{mrkdwn_escape(source_label(change.source))} · {format_time(alert.created_at)}"
    )
    title = truncate(change.title, _TITLE_LIMIT)
    lines = [head, mrkdwn_link(change.url, title) if change.url else mrkdwn_escape(title)]
    if summary := alert_summary(alert):
        lines.append(mrkdwn_escape(summary))
    if change.claim_label:
        lines.append(f"Claim check: _{mrkdwn_escape(change.claim_label)}_")
    if change.also_reported_by:
        lines.append("Also reported by " + mrkdwn_escape(", ".join(change.also_reported_by)))
    return _section("\n".join(lines))


def _health_line(health: SourceHealth | HistoryHealth) -> str:
    text = health_text(health) if isinstance(health, SourceHealth) else history_health_text(health)
    return f"{'⚠️' if failing(health) else '✅'} {mrkdwn_escape(text)}"


def status_blocks(topic: Topic, status: TopicStatus, *, now: datetime) -> list[Block]:
    """The whole card: trials with key dates, latest alerts, source health; at most 50 blocks."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"{topic.name} status", HEADER_LIMIT)},
        }
    ]
    also = [*topic.aliases, *topic.trials]
    if also:
        blocks.append(_context("Also: " + mrkdwn_escape(", ".join(also))))
    blocks.append(_section("*Trials*"))
    primary, linked = link_registries(status.trials)
    trials = _ordered_trials(topic, tuple(primary))
    if not trials:
        reason = trials_missing_reason(status).replace(" (run `trialwatch check`)", "")
        blocks.append(_section(f"None stored yet: {mrkdwn_escape(reason)}."))
    blocks += [
        _trial_block(
            t,
            linked.get(t.observation.key, []),
            now,
            timeline_lines(
                status.history.get(t.observation.key, ()), status_words=humanize_enum, live=t
            ),
        )
        for t in trials[:MAX_TRIALS]
    ]
    if len(trials) > MAX_TRIALS:
        blocks.append(_more_trials_block(trials[MAX_TRIALS:]))
    blocks += [{"type": "divider"}, _section(f"*{ALERTS_HEADING}*")]
    shown = status.recent_alerts[:MAX_ALERTS]
    blocks += [_alert_block(a) for a in shown] or [_section("None yet.")]
    if more := alerts_left_out(topic, status, len(shown)):
        count, command = more
        blocks.append(_context(f"…and {mrkdwn_escape(count)}: `{mrkdwn_escape(command)}`"))
    if not status.triage.empty:  # acknowledged / snoozed / muted (bot/slack/triage/)
        triage = "\n".join(f"• {mrkdwn_escape(line)}" for line in triage_lines(status.triage))
        blocks.append(_section("*Triage*\n" + triage))
    blocks += [{"type": "divider"}]
    sources = [_health_line(h) for h in status.health] or ["Not checked yet."]
    sources += [_health_line(h) for h in status.history_health]
    blocks.append(_section("*Sources* (last successful check)\n" + "\n".join(sources)))
    if status.failed_deliveries:
        failed = [
            f"• alert {a.id} to {mrkdwn_escape(a.channel or a.destination or '?')}: "
            f"{mrkdwn_escape(a.last_error or 'unknown error')}"
            for a in status.failed_deliveries
        ]
        blocks.append(_section("*Failed deliveries* (not retried)\n" + "\n".join(failed)))
    if status.destinations:
        where = [
            f"{'⚠️' if h.failing else '✅'} {mrkdwn_escape(destination_text(h))}"
            for h in status.destinations
        ]
        blocks.append(_section("*Destinations* (every topic)\n" + "\n".join(where)))
    footer = _context(f"From stored state at {format_time(now)} · `/status NAME public` shares it")
    return fit_blocks(blocks, footer=[footer])  # says how many blocks it left out


def status_fallback(topic: Topic, status: TopicStatus) -> str:
    """The plain-text line Slack shows in notifications and where blocks cannot render."""
    trials = _ordered_trials(topic, tuple(link_registries(status.trials)[0]))[:3]
    parts = [f"{t.observation.key}: {_trial_status(t)}" for t in trials]
    parts.append(f"{max(status.alert_count, len(status.recent_alerts))} alert(s)")
    bad = failing_lines(status)  # "sources ok" only when every source and history line is
    parts.append(f"{bad} source(s) failing" if bad else "sources ok")
    stuck = [h.destination for h in status.destinations if h.failing]
    if stuck:
        parts.append("destination(s) failing: " + ", ".join(stuck))
    return truncate(mrkdwn_escape(f"{topic.name} status — " + "; ".join(parts)), 3000)
