"""A validation error as a config author reads it: the TOML key, and words of TOML, not Python."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.config.settings import Settings

__all__ = ["describe"]


def describe(label: str, exc: ValidationError, raw: object) -> str:
    """`file: invalid configuration` and one line per key: which key, what is wrong."""
    lines = [f"{label}: invalid configuration"]
    errors = exc.errors()
    # A topic with a bad key also fails the "at least one topic" check: only the first is true.
    nested = {e["loc"][0] for e in errors if len(e["loc"]) > 1}
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and len(loc) == 1 and loc[0] in nested:
            continue
        key = _key(loc, raw)
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(_fields_at(loc[:-1]))) or "none"
            lines.append(f"  {key}: unknown key (allowed here: {allowed})")
        elif error["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        else:
            # TOML has no null: an input of None is a key that was left out.
            hidden = key == "storage.url" or error.get("input") is None
            shown = "" if hidden else f" (got {_toml_value(error.get('input'))})"
            lines.append(f"  {key}: {_toml_words(error)}{shown}")
    return "\n".join(lines)


def _key(loc: tuple[int | str, ...], raw: object) -> str:
    """`topics[2] "tofersen".trials`: an array item counted from 1, and named when it has one."""
    key, node = "", raw
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            key += f"[{part + 1}]" + (f" {_toml_value(name)}" if isinstance(name, str) else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            key = f"{key}.{part}" if key else part
    return key or "(top level)"


# Pydantic speaks Python (tuple, dictionary); a config author reads TOML (array, table).
_TOML_WORDS = {
    "tuple_type": 'expected an array, e.g. ["a", "b"]',
    "list_type": 'expected an array, e.g. ["a", "b"]',
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string in quotes",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "time_type": 'expected a time like "08:00"',
    "time_parsing": 'expected a time like "08:00"',
}


def _toml_words(error: Any) -> str:
    if (words := _TOML_WORDS.get(error["type"])) is not None:
        return words
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Tuple", "array").replace("tuple", "array")


def _toml_value(value: Any) -> str:
    """A short TOML-ish rendering of what was found: never a whole table dumped."""
    if isinstance(value, dict):
        return "a table" if value else "an empty table"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item(s)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:59] + "…"
        # Control and bidi characters shown as escapes: they could forge or reorder the message.
        shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
        return '"' + shown.replace('"', '\\"') + '"'
    return repr(value)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model at `loc`, walking list indexes and Optional wrappers."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return []
        model = _model_in(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation
