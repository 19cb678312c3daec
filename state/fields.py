"""Field semantics: which fields alert, how a change reads in human words, how severe it is.

What is source-specific (labels, severity rules) is asked of the source's spec.
"""

from __future__ import annotations

from collections.abc import Mapping

from state.types import ChangeKind, FieldChange, Severity
from watchers.model import FieldValue
from watchers.registry import source_label, spec_for, wording

__all__ = [
    "BOOKKEEPING_FIELDS",
    "describe_change",
    "describe_changes",
    "field_label",
    "format_value",
    "humanize_enum",
    "key_facts",
    "severity_for",
    "source_label",
    "status_words",
]

_WORDING = wording()  # every source's field vocabulary, from its spec

# Stored for the record but never alerted on: they move without anything happening.
BOOKKEEPING_FIELDS = _WORDING.bookkeeping


def field_label(field: str) -> str:
    """A person's name for a tracked field."""
    return _WORDING.labels.get(field, field.replace("_", " ").capitalize())


def humanize_enum(value: str) -> str:
    """`ACTIVE_NOT_RECRUITING` -> `Active, not recruiting`; `PHASE3` -> `Phase 3`."""
    if value in _WORDING.enum_words:
        return _WORDING.enum_words[value]
    return value.replace("_", " ").capitalize() if value.isupper() else value


def format_value(field: str, value: FieldValue) -> str:
    """One field value in human words."""
    if value is None or value == ():
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        if field in _WORDING.sequences:
            return "/".join(humanize_enum(v) for v in value)
        return "; ".join(value)
    if field in _WORDING.enums and isinstance(value, str):
        return humanize_enum(value)
    if field in _WORDING.value_words and isinstance(value, str):
        return _WORDING.value_words[field].get(value, value)
    return str(value)


def status_words(fields: Mapping[str, FieldValue]) -> str:
    """A trial's overall status in words; UNKNOWN says what the status was last known to be."""
    status_field = _WORDING.status or ""
    status = fields.get(status_field)
    words = format_value(status_field, status)
    last_known = fields.get(_WORDING.last_known_status or "")
    if status == "UNKNOWN" and isinstance(last_known, str) and last_known:
        words += f" (last known: {humanize_enum(last_known)})"
    return words


def describe_changes(
    field: str,
    before: FieldValue,
    after: FieldValue,
    *,
    was: Mapping[str, FieldValue],
    now: Mapping[str, FieldValue],
) -> tuple[FieldChange, ...]:
    """One field's change in words, given both records (`was`, `now`) for context.

    A field with event words (sites) reads one line per event; a status reads with its last
    known status when it is UNKNOWN.
    """
    label = field_label(field)
    events = _WORDING.events.get(field)
    if events is not None:
        return tuple(
            FieldChange(field, label, before, after, text) for text in events(before, after)
        )
    if field == _WORDING.status:
        text = f"{label}: {status_words(was)} → {status_words(now)}"
        return (FieldChange(field, label, before, after, text),)
    return (describe_change(field, before, after),)


def describe_change(field: str, before: FieldValue, after: FieldValue) -> FieldChange:
    """A FieldChange worded for people; sets (sites) read as added/removed, not before/after."""
    label = field_label(field)
    is_set = field not in _WORDING.sequences
    if isinstance(before, tuple | type(None)) and isinstance(after, tuple) and is_set:
        old, new = set(before or ()), set(after)
        parts = []
        if added := sorted(new - old):
            parts.append("added " + "; ".join(added))
        if removed := sorted(old - new):
            parts.append("removed " + "; ".join(removed))
        text = f"{label}: " + ", ".join(parts)
    else:
        text = f"{label}: {format_value(field, before)} → {format_value(field, after)}"
    return FieldChange(field=field, label=label, before=before, after=after, text=text)


def key_facts(fields: Mapping[str, FieldValue]) -> str | None:
    """A record's tracked fields in one line, so its first alert says what it is."""
    facts = []
    for name, value in fields.items():
        if name.startswith("_") or name in BOOKKEEPING_FIELDS or value in (None, (), ""):
            continue
        if name in ("locations", "sites") and isinstance(value, tuple):
            facts.append(f"{field_label(name)}: {len(value)}")
        elif name == _WORDING.status:  # a trial's status, in words
            facts.append(f"{field_label(name)}: {status_words(fields)}")
        elif name != "brief_title":
            facts.append(f"{field_label(name)}: {format_value(name, value)}")
    return "; ".join(facts) or None


def severity_for(
    source: str,
    kind: ChangeKind,
    fields: Mapping[str, FieldValue],
    changes: tuple[FieldChange, ...] = (),
) -> Severity:
    """How loudly a change should be told, by its source's spec (watchers/registry.py)."""
    spec = spec_for(source).for_fields(fields)
    return spec.severity(kind is ChangeKind.NEW, fields, changes)
