"""Pure: the read-only dashboard as self-contained HTML (inline CSS and SVG, nothing external).

Every value from a source is escaped (markupsafe, as the digest's HTML): a hostile feed title
shows as text, and a source's URL is a link only if bot/links.py says it is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from bot.dashboard.chart import chart_points, completion_chart
from bot.destinations.render import KIND_WORDS
from bot.links import web_link
from bot.status.terminal import format_time, health_text, history_health_text, trial_facts
from state.fields import format_value, humanize_enum, source_label
from state.timeline import timeline_lines
from state.types import Alert, StoredObservation, TopicStatus
from watchers.model import Topic

__all__ = ["index_page", "topic_page"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.high{color:#b00020;font-weight:600}.normal{color:#8a6d00}.low{color:#666}
.trial{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.failing{color:#b00020}.muted{color:#666;font-size:.9rem}
"""


def _page(title: str, body: Markup, now: datetime) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<link rel='icon' href='data:,'>"  # no favicon request
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"{body}<p class='muted'>From stored state at {escape(format_time(now))}.</p>"
        "</body></html>"
    )


def _anchor(url: str, label: str) -> Markup:
    """`label` linked to `url` when that is a web link, else `label` as text."""
    href = web_link(url)
    if href is None:
        return escape(label)
    return Markup(f"<a href='{escape(href)}'>{escape(label)}</a>")  # noqa: S704 (escaped)


def _alert_rows(alerts: Sequence[Alert]) -> Markup:
    if not alerts:
        return Markup("<p>No alerts yet.</p>")
    rows = []
    for alert in alerts:  # escape() + join: many times faster than Markup.format per row
        change = alert.change
        summary = "; ".join(fc.text for fc in change.field_changes) or change.detail or ""
        label = f" [{change.claim_label}]" if change.claim_label else ""
        severity = escape(change.severity.value)
        rows.append(
            f"<tr class='alert'><td>{escape(format_time(alert.created_at))}</td>"
            f"<td class='{severity}'>{severity}</td>"
            f"<td>{escape(KIND_WORDS.get(change.kind, change.kind.value))}</td>"
            f"<td>{escape(source_label(change.source))}</td>"
            f"<td>{_anchor(change.url, change.title)}{escape(label)}"
            f"<div class='muted'>{escape(summary)}</div></td></tr>"
        )
    head = Markup(
        "<table class='alerts'><tr><th>When</th><th>Severity</th><th>What</th>"
        "<th>Source</th><th>Alert</th></tr>"
    )
    # Every value in the rows went through escape() (or _anchor, which escapes).
    return head + Markup("".join(rows)) + Markup("</table>")  # noqa: S704


def _health(status: TopicStatus) -> Markup:
    lines = [health_text(h) for h in status.health]
    lines += [history_health_text(h) for h in status.history_health]
    if not lines:
        return Markup("<p>Not checked yet.</p>")
    items = (
        Markup("<li class='{}'>{}</li>").format("failing" if "FAILING" in line else "ok", line)
        for line in lines
    )
    return Markup("<ul class='health'>") + Markup("").join(items) + Markup("</ul>")


def _phase(stored: StoredObservation) -> tuple[str, str, str]:
    phases = stored.observation.fields.get("phases")
    return ("Phase", format_value("phases", phases), "")


def topic_page(topic: Topic, status: TopicStatus, *, now: datetime) -> str:
    """One topic: its trials (facts, timeline, chart), the alerts timeline, source health."""
    parts = [Markup("<h1>{}</h1>").format(topic.name)]
    if topic.aliases:
        parts.append(Markup("<p class='muted'>Also: {}</p>").format(", ".join(topic.aliases)))
    parts.append(Markup("<h2>Trials</h2>"))
    if not status.trials:
        parts.append(Markup("<p>None stored yet.</p>"))
    for stored in status.trials:
        obs = stored.observation
        versions = status.history.get(obs.key, ())
        facts = Markup("").join(
            Markup("<tr><th>{}</th><td>{}</td><td class='muted'>{}</td></tr>").format(*fact)
            for fact in [_phase(stored), *trial_facts(stored, now=now)]
        )
        lines = Markup("").join(
            Markup("<li>{}</li>").format(line)
            for line in timeline_lines(versions, status_words=humanize_enum, live=stored)
        )
        live = obs.fields.get("primary_completion_date")
        changed = stored.field_changed_at.get("primary_completion_date")
        points = chart_points(
            versions,
            live if isinstance(live, str) else None,
            changed.date().isoformat() if changed else None,
        )
        parts.append(
            Markup(
                "<section class='trial' id='{}'><h3>{} {}</h3>"
                "<table class='facts'>{}</table><ul class='timeline'>{}</ul>"
                "<h4>Primary completion estimate</h4>{}</section>"
            ).format(
                obs.key,
                _anchor(obs.url, obs.key),
                obs.title,
                facts,
                lines,
                completion_chart(points, f"{obs.key} primary completion estimate"),
            )
        )
    parts += [Markup("<h2>Alerts</h2>"), _alert_rows(status.recent_alerts)]
    parts += [Markup("<h2>Sources</h2>"), _health(status)]
    return _page(f"{topic.name} · trialwatch", Markup("").join(parts), now)


def index_page(topics: Sequence[tuple[Topic, TopicStatus]], *, now: datetime) -> str:
    """Every topic with its latest high alerts and source health."""
    parts = [Markup("<h1>trialwatch</h1>")]
    for topic, status in topics:
        high = [a for a in status.recent_alerts if a.change.severity.value == "high"]
        parts.append(Markup("<h2><a href='topics/{}'>{}</a></h2>").format(topic.name, topic.name))
        parts += [_alert_rows(high), _health(status)]
    return _page("trialwatch", Markup("").join(parts), now)
