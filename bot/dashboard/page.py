"""Pure: the read-only dashboard as self-contained HTML (inline CSS and SVG, nothing external).

One layout for `/`, `/topics/{name}` and `report --html`: readable from a 360 px phone (tables
become stacked rows, nothing scrolls sideways) to a wide screen, and printed. Every value from
a source is escaped (markupsafe, as the digest's HTML): a hostile feed title shows as text, and
a source's URL is a link only if bot/links.py says it is one.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from bot.dashboard.alerts import alert_table, anchor
from bot.dashboard.chart import date_chart, milestone_points
from bot.status.overview import ALERTS_HEADING, alerts_left_out, failing
from bot.status.terminal import format_time, health_text, history_health_text, trial_facts
from state.fields import format_value, humanize_enum
from state.timeline import timeline_lines
from state.triage_types import Acknowledgement
from state.types import HistoryHealth, SourceHealth, StoredObservation, TopicStatus
from watchers.model import Topic

__all__ = ["index_page", "topic_href", "topic_page", "unknown_topic_page"]

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem 2rem;color:#222;
max-width:1100px;line-height:1.4;overflow-wrap:break-word}
td[data-label='Alert'],.timeline,.slips{overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #ddd}
h3{font-size:1.1rem}h4{margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.high{color:#b00020;font-weight:600}.normal{color:#8a6d00}.low{color:#666}
tr.group th{background:#f4f6f8;font-weight:600}
.trial{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.failing{color:#b00020}.muted{color:#666;font-size:.9rem}
.mark{display:inline-block;margin:.2rem .3rem 0 0;padding:0 .4rem;border-radius:4px;
font-size:.85rem;background:#eef3ea}.mark.snoozed{background:#fff4d6}.mark.muted{background:#eee}
figure.dates{margin:0}svg.chart{width:100%;max-width:600px;height:auto;display:block}
.legend{font-size:.9rem;margin:.3rem 0}.key{display:inline-block;margin-right:1rem}
.key i{display:inline-block;width:1.2rem;height:3px;vertical-align:middle;margin-right:.3rem}
.key i.today{border-top:2px dashed #b00020;height:0}
.key b.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.3rem;
border:2px solid #3366aa;vertical-align:middle}.key b.actual{background:#3366aa}
.slips{margin:.3rem 0;padding-left:1.2rem}
@media (max-width:600px){
body{padding:.5rem .75rem}
table.stack thead{display:none}
table.stack,table.stack tbody,table.stack tr,table.stack td,table.stack th{display:block;
width:100%}
table.stack tr{border-bottom:2px solid #ccc;padding:.3rem 0}
table.stack td,table.stack th{border:0;padding:.1rem .2rem}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:#666;font-weight:400}
.trial{padding:.5rem}
}
@media print{body{max-width:none;padding:0}a{color:inherit}.trial{break-inside:avoid}}
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


def topic_href(topic: Topic, base: str) -> str:
    """The link to a topic's page from a page at `base` ("topics/" from `/`)."""
    return base + quote(topic.name, safe="")


def _health(status: TopicStatus, heading: str = "h2") -> Markup:
    """Source health under its heading: failing or stale lines first, the ok ones folded."""
    lines: list[tuple[SourceHealth | HistoryHealth, str]] = [
        (h, health_text(h)) for h in status.health
    ]
    lines += [(h, history_health_text(h)) for h in status.history_health]
    parts = [Markup(f"<{heading}>Sources</{heading}>")]  # noqa: S704 (a constant tag)
    if not lines:
        return parts[0] + Markup("<p>Not checked yet.</p>")
    bad = [text for health, text in lines if failing(health)]
    ok = [text for health, text in lines if not failing(health)]
    if bad:
        items = Markup("").join(Markup("<li>{}</li>").format(t) for t in bad)
        parts.append(Markup("<ul class='health failing'>{}</ul>").format(items))
    if ok:
        items = Markup("").join(Markup("<li>{}</li>").format(t) for t in ok)
        count = f"{'' if bad else 'All '}{len(ok)} source{'' if len(ok) == 1 else 's'} ok"
        parts.append(
            Markup("<details class='health ok'><summary>{}</summary><ul>{}</ul></details>").format(
                count, items
            )
        )
    return Markup("").join(parts)


def _more(
    topic: Topic, status: TopicStatus, shown: int, filters: Mapping[str, str] | None = None
) -> Markup:
    """ "7 more alerts: `trialwatch status NAME --all`" when some are not on the page; under
    filters, the command with the same ones (and the API for those `status` lacks)."""
    left_out = alerts_left_out(topic, status, shown)
    if left_out is None:
        return Markup("")
    words, command = left_out
    filters = {k: v for k, v in (filters or {}).items() if v}
    if not filters:
        return Markup("<p class='more'>{}: <code>{}</code></p>").format(words, command)
    options = [f"--{k} {shlex.quote(filters[k])}" for k in ("since", "severity") if k in filters]
    command = " ".join([f"trialwatch status {shlex.quote(topic.name)}", *options, "--all"])
    line = Markup("<p class='more'>{} match: <code>{}</code>").format(words, command)
    if filters.keys() - {"since", "severity"}:  # `status` has no --source or --trial
        api = f"../api/v1/topics/{quote(topic.name, safe='')}/alerts?{urlencode(filters)}"
        line += Markup(", or every filter at once: <a href='{}'>the JSON API</a>").format(api)
    return line + Markup("</p>")


def _trial(stored: StoredObservation, status: TopicStatus, now: datetime) -> Markup:
    obs = stored.observation
    versions = status.history.get(obs.key, ())
    phases = ("Phase", format_value("phases", obs.fields.get("phases")), "")
    facts = Markup("").join(
        Markup("<tr><th>{}</th><td>{}</td><td class='muted'>{}</td></tr>").format(*fact)
        for fact in [phases, *trial_facts(stored, now=now)]
    )
    lines = Markup("").join(
        Markup("<li>{}</li>").format(line)
        for line in timeline_lines(versions, status_words=humanize_enum, live=stored)
    )
    chart = date_chart(
        milestone_points(versions, stored, now.date()), f"{obs.key} registry dates", now.date()
    )
    return Markup(
        "<section class='trial' id='{}'><h3>{} {}</h3>"
        "<table class='facts stack'>{}</table><ul class='timeline'>{}</ul>"
        "<h4>Dates across registry versions</h4>{}</section>"
    ).format(obs.key, anchor(obs.url, obs.key), obs.title, facts, lines, chart)


def topic_page(
    topic: Topic,
    status: TopicStatus,
    *,
    now: datetime,
    acks: Mapping[int, Acknowledgement] | None = None,
    alert_filters: Markup | None = None,
    filters: Mapping[str, str] | None = None,
    coming_up: Markup | None = None,
) -> str:
    """One topic: its trials (facts, timeline, date chart), its alerts (important first, with
    their triage marks) and source health. `acks`: who acknowledged the shown alerts;
    `alert_filters`: the filter form above them (bot/dashboard/filter_form.py), `filters`: the
    values it was given (the "N more" line suggests the same); `coming_up`: the milestones of
    the next 90 days (bot/calendar/coming_up.py)."""
    parts = [Markup("<h1>{}</h1>").format(topic.name)]
    if topic.aliases:
        parts.append(Markup("<p class='muted'>Also: {}</p>").format(", ".join(topic.aliases)))
    parts.append(Markup("<h2>Trials</h2>"))
    if not status.trials:
        parts.append(Markup("<p>None stored yet.</p>"))
    parts += [_trial(stored, status, now) for stored in status.trials]
    parts.append(coming_up or Markup(""))
    parts.append(Markup("<h2>{}</h2>").format(ALERTS_HEADING))
    parts.append(alert_filters or Markup(""))
    parts.append(alert_table(status.recent_alerts, status.triage, acks))
    parts += [_more(topic, status, len(status.recent_alerts), filters), _health(status)]
    return _page(f"{topic.name} · trialwatch", Markup("").join(parts), now)


def index_page(
    topics: Sequence[tuple[Topic, TopicStatus]],
    *,
    now: datetime,
    acks: Mapping[int, Acknowledgement] | None = None,
) -> str:
    """Every topic with its high alerts (unacknowledged first) and source health."""
    parts = [Markup("<h1>trialwatch</h1>")]
    for topic, status in topics:
        high = [a for a in status.recent_alerts if a.change.severity.value == "high"]
        href = topic_href(topic, "topics/")
        parts.append(Markup("<h2><a href='{}'>{}</a></h2>").format(href, topic.name))
        parts += [alert_table(high, status.triage, acks), _more(topic, status, len(high))]
        parts.append(_health(status, "h3"))
    return _page("trialwatch", Markup("").join(parts), now)


def unknown_topic_page(name: str, topics: Sequence[Topic], *, now: datetime) -> str:
    """A name that is no topic, alias or trial id: say so, and list the topics (404)."""
    items = Markup("").join(
        Markup("<li><a href='{}'>{}</a>{}</li>").format(
            topic_href(topic, ""),
            topic.name,
            Markup(" <span class='muted'>({})</span>").format(", ".join(topic.aliases))
            if topic.aliases
            else "",
        )
        for topic in topics
    )
    body = Markup(
        "<h1>No topic “{}”</h1><p>It is not a topic, an alias or a trial id of one. "
        "Topics:</p><ul class='topics'>{}</ul>"
    ).format(name, items or Markup("<li>none configured</li>"))
    return _page("unknown topic · trialwatch", body, now)
