"""The JSON API's OpenAPI 3.1 description, as data: served at /api/v1/openapi.json and what
the tests validate every answer against (its schemas are JSON Schema 2020-12)."""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI", "schema_of"]

_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": ["string", "null"]}
_REFRESHED = {
    "description": "When a source last answered (the data's freshness); null: never polled.",
    **_TIME,
}


def _object(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **optional},
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SCHEMAS: dict[str, Any] = {
    "Topic": _object(
        {
            "name": {"type": "string"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "trials": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Alert": _object(
        {
            "id": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "topic": {"type": "string"},
            "severity": {"enum": ["high", "normal", "low"]},
            "kind": {"type": "string"},
            "source": {"type": "string"},
            "source_label": {"type": "string"},
            "record": {"type": "string"},
            "title": {"type": "string"},
            "url": {**_TEXT, "description": "A web link; null when the source gave none."},
            "changes": {"type": "array", "items": {"type": "string"}},
            "detail": _TEXT,
            "excerpt": _TEXT,
            "claim": _TEXT,
            "published": _TIME,
        }
    ),
    "SourceHealth": _object(
        {
            "source": {"type": "string"},
            "source_label": {"type": "string"},
            "last_success": _TIME,
            "consecutive_failures": {"type": "integer", "minimum": 0},
            "stale": _TEXT,
        }
    ),
    "Trial": _object(
        {
            "id": {"type": "string"},
            "topic": {"type": "string"},
            "source": {"type": "string"},
            "title": {"type": "string"},
            "url": _TEXT,
            "facts": {
                "type": "array",
                "items": _object(
                    {"label": {"type": "string"}, "value": {"type": "string"}, "changed": _TEXT}
                ),
            },
            "timeline": {"type": "array", "items": {"type": "string"}},
            "versions": {"type": "integer", "minimum": 0},
        }
    ),
    "Topics": _object(
        {"refreshed_at": _REFRESHED, "topics": {"type": "array", "items": _ref("Topic")}}
    ),
    "Status": _object(
        {
            "refreshed_at": _REFRESHED,
            "topic": _ref("Topic"),
            "trials": {"type": "array", "items": _ref("Trial")},
            "alerts": {
                "description": "The most important: high ones nobody acknowledged, then newest.",
                "type": "array",
                "items": _ref("Alert"),
            },
            "alert_count": {"type": "integer", "minimum": 0},
            "sources": {"type": "array", "items": _ref("SourceHealth")},
        }
    ),
    "Alerts": _object(
        {
            "refreshed_at": _REFRESHED,
            "alerts": {"type": "array", "items": _ref("Alert")},
            "total": {"description": "Alerts the filters match.", "type": "integer"},
            "next_cursor": {
                "description": "Give as `cursor` for the next (older) page; null: last page.",
                "type": ["string", "null"],
            },
        }
    ),
    "TrialAnswer": _object({"refreshed_at": _REFRESHED, "trial": _ref("Trial")}),
    "Error": _object({"error": {"type": "string"}}),
}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _answers(schema: str, *errors: int) -> dict[str, Any]:
    words = {
        400: "Bad filter value",
        404: "Unknown topic or trial",
        401: "Missing or wrong bearer token",
        503: "Database unreadable, or no token set off loopback",
    }
    found: dict[str, Any] = {"200": {"description": "OK", "content": _json(schema)}}
    for code in (*errors, 401, 503):
        found[str(code)] = {"description": words[code], "content": _json("Error")}
    return found


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


_TOPIC = _path("name", "A topic, one of its aliases, or one of its trial ids.")

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "trialwatch",
        "version": "1",
        "description": "Read-only stored state: topics, status, alerts and trials. Off "
        "loopback every call needs 'Authorization: Bearer <TRIALWATCH_DASHBOARD_TOKEN>'.",
    },
    "components": {
        "schemas": _SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/topics": {
            "get": {"summary": "The watched topics", "responses": _answers("Topics")}
        },
        "/api/v1/topics/{name}": {
            "get": {
                "summary": "A topic's status",
                "parameters": [_TOPIC],
                "responses": _answers("Status", 404),
            }
        },
        "/api/v1/topics/{name}/alerts": {
            "get": {
                "summary": "A topic's alerts, newest first, filtered, a page at a time",
                "parameters": [
                    _TOPIC,
                    _query("since", "A period before now (7d, 24h, 2w) or an ISO date/time."),
                    _query(
                        "severity",
                        "This severity or louder.",
                        enum=["high", "normal", "low"],
                    ),
                    _query("source", "A source id (pubmed) or one feed (feed:EMA news)."),
                    _query("trial", "A trial id: its record's alerts and items naming it."),
                    _query("cursor", "The previous page's next_cursor."),
                    _query("limit", "Alerts per page.", type="integer", minimum=1, maximum=200),
                ],
                "responses": _answers("Alerts", 400, 404),
            }
        },
        "/api/v1/trials/{id}": {
            "get": {
                "summary": "One trial's key facts and registry timeline",
                "parameters": [_path("id", "A trial id (NCT04768972, an EU CT number).")],
                "responses": _answers("TrialAnswer", 404),
            }
        },
    },
}


def schema_of(name: str) -> dict[str, Any]:
    """A component schema with the components beside it, so its `$ref`s resolve."""
    return {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}
