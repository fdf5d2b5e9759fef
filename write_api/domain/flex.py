"""Flex: tenant-defined schemas and validation of entries against them.

A schema is a list of fields; a field has a ``name``, a ``type`` and may be
``required``. ``enum`` fields list their ``values``; ``object`` fields nest ``fields``;
``list`` fields describe their ``items``. At most ``MAX_FIELDS`` fields in all (nested
ones count) and at most ``MAX_DEPTH`` levels, so one entry stays cheap to validate and
index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from write_api.errors import FieldError, InvalidInput, PathPart

MAX_FIELDS = 50
MAX_DEPTH = 3
MAX_STRING = 10_000
FIELD_TYPES = ("string", "text", "integer", "number", "boolean", "date", "datetime", "enum", "object", "list")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    items: FieldSpec | None = None
    max_length: int | None = None


def parse_fields(raw: Any, path: tuple[PathPart, ...] = ("body", "fields")) -> tuple[FieldSpec, ...]:
    """Validate a schema definition; InvalidInput lists every problem with its path."""
    errors: list[FieldError] = []
    specs = _parse_list(raw, path, 1, errors)
    if not errors:
        total = _count(specs)
        if total > MAX_FIELDS:
            errors.append(FieldError(path, f"at most {MAX_FIELDS} fields in all, got {total}"))
    if errors:
        raise InvalidInput("the schema definition is invalid", tuple(errors))
    return specs


def _count(specs: Sequence[FieldSpec]) -> int:
    return sum(1 + _count(s.fields) + (_count(s.items.fields) if s.items else 0) for s in specs)


def _parse_list(raw: Any, path: tuple[PathPart, ...], depth: int, errors: list[FieldError]) -> tuple[FieldSpec, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(path, "must be a non-empty list of fields"))
        return ()
    if depth > MAX_DEPTH:
        errors.append(FieldError(path, f"fields nest at most {MAX_DEPTH} levels deep"))
        return ()
    specs: list[FieldSpec] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        spec = _parse_field(item, (*path, index), depth, errors)
        if spec is None:
            continue
        if spec.name in names:
            errors.append(FieldError((*path, index, "name"), f"duplicate field name {spec.name!r}"))
        names.add(spec.name)
        specs.append(spec)
    return tuple(specs)


def _parse_field(raw: Any, path: tuple[PathPart, ...], depth: int, errors: list[FieldError]) -> FieldSpec | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(path, "must be an object with 'name' and 'type'"))
        return None
    before = len(errors)
    name, kind = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        errors.append(FieldError((*path, "name"), "must match ^[a-z][a-z0-9_]{0,63}$"))
    if kind not in FIELD_TYPES:
        errors.append(FieldError((*path, "type"), f"must be one of {', '.join(FIELD_TYPES)}"))
    unknown = set(raw) - {"name", "type", "required", "values", "fields", "items", "max_length", "label"}
    if unknown:
        errors.append(FieldError(path, f"unknown keys: {', '.join(sorted(unknown))}"))
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errors.append(FieldError((*path, "required"), "must be true or false"))
    values: tuple[str, ...] = ()
    if kind == "enum":
        raw_values = raw.get("values")
        if not isinstance(raw_values, list) or not raw_values or not all(isinstance(v, str) for v in raw_values):
            errors.append(FieldError((*path, "values"), "an enum needs a non-empty list of strings"))
        else:
            values = tuple(raw_values)
    nested: tuple[FieldSpec, ...] = ()
    if kind == "object":
        nested = _parse_list(raw.get("fields"), (*path, "fields"), depth + 1, errors)
    items: FieldSpec | None = None
    if kind == "list":
        raw_items = raw.get("items")
        if isinstance(raw_items, Mapping):
            items = _parse_field({"name": "item", **raw_items}, (*path, "items"), depth + 1, errors)
        else:
            errors.append(FieldError((*path, "items"), "a list needs 'items' describing its elements"))
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        errors.append(FieldError((*path, "max_length"), "must be a positive integer"))
    if len(errors) > before:
        return None
    return FieldSpec(str(name), str(kind), bool(required), values, nested, items, max_length)


def validate_entry(specs: Sequence[FieldSpec], data: Any, path: tuple[PathPart, ...] = ("body", "data")) -> list[FieldError]:
    """Every way ``data`` fails ``specs`` (empty when valid)."""
    errors: list[FieldError] = []
    _check_object(specs, data, path, errors)
    return errors


def _check_object(specs: Sequence[FieldSpec], data: Any, path: tuple[PathPart, ...], errors: list[FieldError]) -> None:
    if not isinstance(data, Mapping):
        errors.append(FieldError(path, "must be an object"))
        return
    known = {s.name for s in specs}
    for key in sorted(set(data) - known):
        errors.append(FieldError((*path, key), "is not a field of this schema"))
    for spec in specs:
        value = data.get(spec.name)
        if value is None:
            if spec.required:
                errors.append(FieldError((*path, spec.name), "is required"))
            continue
        _check_value(spec, value, (*path, spec.name), errors)


def _check_value(spec: FieldSpec, value: Any, path: tuple[PathPart, ...], errors: list[FieldError]) -> None:
    problem = _scalar_problem(spec, value)
    if problem is not None:
        errors.append(FieldError(path, problem))
    elif spec.type == "object":
        _check_object(spec.fields, value, path, errors)
    elif spec.type == "list" and spec.items is not None:
        for index, item in enumerate(value):
            _check_value(spec.items, item, (*path, index), errors)


def _scalar_problem(spec: FieldSpec, value: Any) -> str | None:
    kind = spec.type
    if kind in ("string", "text"):
        limit = spec.max_length or MAX_STRING
        if not isinstance(value, str):
            return "must be a string"
        return f"at most {limit} characters" if len(value) > limit else None
    if kind == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"
    if kind == "number":
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "must be a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "enum":
        return None if value in spec.values else f"must be one of {', '.join(spec.values)}"
    if kind in ("date", "datetime"):
        return _temporal_problem(kind, value)
    if kind == "object":
        return None if isinstance(value, Mapping) else "must be an object"
    return None if isinstance(value, list) else "must be a list"


def _temporal_problem(kind: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an ISO 8601 {kind} string"
    try:
        (date.fromisoformat if kind == "date" else datetime.fromisoformat)(value)
    except ValueError:
        return f"must be an ISO 8601 {kind} string"
    return None


def fields_to_json(specs: Sequence[FieldSpec]) -> list[dict[str, Any]]:
    """The canonical stored form of a schema definition."""
    return [_spec_json(s) for s in specs]


def _spec_json(spec: FieldSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name, "type": spec.type, "required": spec.required}
    if spec.values:
        out["values"] = list(spec.values)
    if spec.fields:
        out["fields"] = fields_to_json(spec.fields)
    if spec.items is not None:
        item = _spec_json(spec.items)
        item.pop("name")
        out["items"] = item
    if spec.max_length is not None:
        out["max_length"] = spec.max_length
    return out
