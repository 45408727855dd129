"""Checks JSON bodies against the Calendar v3 discovery document's schemas, so the emulator
cannot drift into inventing fields or types. Pure functions, any thread."""

from __future__ import annotations

import re
from typing import Any

# Google's error body is not in the discovery document; this mirrors its documented shape.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string"}
                            for name in ("domain", "reason", "message", "locationType", "location")
                        },
                    },
                },
            },
        }
    },
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "number": (int, float),
}


def problems(
    value: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str = "$"
) -> list[str]:
    """Every way `value` departs from `schema` (a discovery schema; `$ref`s resolved in
    `schemas`): unknown fields, wrong JSON types, malformed dates and integers."""
    if "$ref" in schema:
        return problems(value, schemas[schema["$ref"]], schemas, where)
    kind = schema.get("type")
    found: list[str] = []
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        # The discovery format int64 is sent as a string.
        if schema.get("format") == "int64":
            ok = isinstance(value, str) and value.lstrip("-").isdigit()
        return [] if ok else [f"{where}: expected integer, got {value!r}"]
    if kind == "any" or (kind is None and "properties" not in schema):
        return []
    if kind in _TYPES and (
        not isinstance(value, _TYPES[kind]) or (isinstance(value, bool) and kind == "number")
    ):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date" and not _DATE.match(value):
            found.append(f"{where}: not a date: {value!r}")
        if fmt == "date-time" and not _DATE_TIME.match(value):
            found.append(f"{where}: not a date-time: {value!r}")
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not in {schema['enum']}")
    if kind == "array":
        for index, item in enumerate(value):
            found += problems(item, schema.get("items", {}), schemas, f"{where}[{index}]")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                found += problems(item, props[key], schemas, f"{where}.{key}")
            elif extra is not None:
                found += problems(item, extra, schemas, f"{where}.{key}")
            else:
                found.append(f"{where}: field {key!r} is not in the schema")
    return found


def check_response(name: str, body: Any, schemas: dict[str, Any]) -> list[str]:
    """Problems of one emulator response body labelled with schema `name` ("error" for
    Google's error shape; OAuth bodies are not Calendar schemas and are skipped)."""
    if name.startswith("oauth-"):
        return []
    schema = ERROR_SCHEMA if name == "error" else schemas.get(name)
    if schema is None:
        return [f"unknown schema {name!r}"]
    return problems(body, schema, schemas)
