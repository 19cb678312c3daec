"""Pure: the dashboard's alert list (stacked rows on a phone) with each alert's triage marks.

An alert is marked acknowledged (by whom, when), its record snoozed (until when, by whom) and
the record's muted fields (by whom, when), from the stored triage ledger. Every value is
escaped; a record's URL is a link only if bot/links.py says it is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from markupsafe import Markup, escape

from bot.destinations.render import KIND_WORDS
from bot.links import web_link
from bot.status.terminal import format_time
from bot.terminal_text import shown_name
from state.fields import field_label, source_label
from state.triage_types import Acknowledgement, TriageSummary
from state.types import Alert

__all__ = ["alert_table", "anchor", "record_groups", "triage_marks"]

_COLUMNS = ("When", "Severity", "What", "Source", "Alert")


def anchor(url: str, label: str) -> Markup:
    """`label` linked to `url` when that is a web link, else `label` as text."""
    href = web_link(url)
    if href is None:
        return escape(label)
    return Markup(f"<a href='{escape(href)}'>{escape(label)}</a>")  # noqa: S704 (escaped)


def _by(name: str, at: datetime) -> str:
    return f"by {shown_name(name)}, {format_time(at)}"


def triage_marks(
    alert: Alert, triage: TriageSummary, acks: Mapping[int, Acknowledgement]
) -> list[tuple[str, str]]:
    """(css class, words) per mark: acknowledged, its record snoozed, its fields muted."""
    change, marks = alert.change, []
    ack = acks.get(alert.id)
    if ack is not None:
        marks.append(("ack", f"acknowledged {_by(ack.user_name, ack.at)}"))
    record = (change.topic, change.source, change.key)
    for snooze in triage.snoozed:
        if (snooze.topic, snooze.source, snooze.record_key) == record:
            until = format_time(snooze.until)
            marks.append(
                ("snoozed", f"record snoozed until {until} {_by(snooze.user_name, snooze.at)}")
            )
    for mute in triage.muted:
        if (mute.topic, mute.source, mute.record_key) == record:
            marks.append(
                ("muted", f"{field_label(mute.field)} muted {_by(mute.user_name, mute.at)}")
            )
    return marks


def _row(alert: Alert, triage: TriageSummary, acks: Mapping[int, Acknowledgement]) -> str:
    change = alert.change
    summary = "; ".join(fc.text for fc in change.field_changes) or change.detail or ""
    label = f" [{change.claim_label}]" if change.claim_label else ""
    severity = escape(change.severity.value)
    marks = "".join(
        f"<span class='mark {css}'>{escape(words)}</span>"
        for css, words in triage_marks(alert, triage, acks)
    )
    cells = (
        escape(format_time(alert.created_at)),
        severity,
        escape(KIND_WORDS.get(change.kind, change.kind.value)),
        escape(source_label(change.source)),
        f"{anchor(change.url, change.title)}{escape(label)}"
        f"<div class='muted'>{escape(summary)}</div>{marks}",
    )
    # The severity's class styles the Severity cell (.high: red, bold); severity is a Markup,
    # so the class is formatted into a str, not concatenated (that escaped its quotes).
    css = ("", f" class='{severity}'", "", "", "")
    tds = "".join(
        f"<td data-label='{name}'{extra}>{cell}</td>"
        for name, extra, cell in zip(_COLUMNS, css, cells, strict=True)
    )
    return f"<tr class='alert'>{tds}</tr>"


def alert_table(
    alerts: Sequence[Alert],
    triage: TriageSummary | None = None,
    acks: Mapping[int, Acknowledgement] | None = None,
) -> Markup:
    """The alerts as a table that becomes stacked rows on a narrow screen."""
    if not alerts:
        return Markup("<p>No alerts yet.</p>")
    triage, acks = triage or TriageSummary(), acks or {}
    bodies, single = [], []  # a record with several alerts gets a <tbody> and a heading
    for group in record_groups(alerts):
        rows = "".join(_row(alert, triage, acks) for alert in group)  # str join: fast at 100s
        if len(group) == 1:
            single.append(rows)
            continue
        if single:
            bodies.append(f"<tbody>{''.join(single)}</tbody>")
            single = []
        bodies.append(f"<tbody class='record'>{_group_heading(group)}{rows}</tbody>")
    if single:
        bodies.append(f"<tbody>{''.join(single)}</tbody>")
    head = "".join(f"<th scope='col'>{name}</th>" for name in _COLUMNS)
    # Every value in the rows went through escape() (or anchor, which escapes).
    return Markup(  # noqa: S704
        f"<table class='alerts stack'><thead><tr>{head}</tr></thead>{''.join(bodies)}</table>"
    )


def record_groups(alerts: Sequence[Alert]) -> list[list[Alert]]:
    """The alerts in their order, except that the alerts of one record (a trial, an item)
    gather where its first one stands: a trial's updates read together under one heading."""
    groups: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        groups.setdefault((alert.change.source, alert.change.key), []).append(alert)
    return list(groups.values())  # dicts keep first-insertion order


def _group_heading(group: Sequence[Alert]) -> str:
    change = group[0].change
    return (
        f"<tr class='group'><th colspan='{len(_COLUMNS)}' scope='rowgroup'>"
        f"{escape(change.key)} · {escape(change.title)} "
        f"<span class='muted'>({len(group)} alerts, {escape(source_label(change.source))})"
        "</span></th></tr>"
    )
