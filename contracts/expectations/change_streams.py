"""Suites ``change_stream.<table>``: sampled change events of one captured table against its row contract.

Generated from the pydantic row contracts (``contracts.rows.ROW_CONTRACTS``), so the
suites and the projection's own validation can never disagree about a table. Each
event becomes one dataframe row per row image it carries (``after``, or ``before`` for
a delete): ``op`` and ``image`` next to the row's columns as Debezium renders them
(UUIDs and timestamps as strings, JSONB as JSON text, integers as numbers).

Per table: the columns are exactly the contract's (nothing missing, nothing unknown);
required fields are not null; each field has its JSON type (UUIDs and timestamps in
their string forms, JSON text that parses); enum fields hold one of their values; the
operation is c, u, d or r.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic.fields import FieldInfo

from contracts.expectations.base import Expectation, FrameSuite, gxe
from contracts.rows import ROW_CONTRACTS

OPS = ["c", "u", "d", "r"]
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Debezium's ZonedTimestamp: ISO 8601 with a zone (Z or an offset).
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
META_COLUMNS = ("op", "image")


def event_records(events: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Debezium change-event values (``op``, ``before``, ``after``, ``source.table``) → rows per table."""
    records: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        source = event.get("source")
        table = source.get("table") if isinstance(source, Mapping) else None
        image_name = "before" if event.get("op") == "d" else "after"
        image = event.get(image_name)
        if not isinstance(table, str) or not isinstance(image, Mapping):
            continue  # truncates and heartbeats carry no row
        records.setdefault(table, []).append({"op": event.get("op"), "image": image_name, **image})
    return records


def change_stream_suite(table: str) -> FrameSuite:
    """The suite for one captured table; KeyError if the table has no row contract."""
    contract = ROW_CONTRACTS[table]
    fields = contract.model_fields
    expectations: list[Expectation] = [
        gxe.ExpectColumnValuesToBeInSet(column="op", value_set=OPS, description="op is c, u, d or r"),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*META_COLUMNS, *fields], exact_match=True,
            description=f"rows carry exactly the columns of the {table} contract"),
    ]
    for name, info in fields.items():
        expectations.extend(_field_expectations(table, name, info))
    return FrameSuite(name=f"change_stream.{table}", expectations=tuple(expectations),
                      columns=(*META_COLUMNS, *fields))


def _field_expectations(table: str, name: str, info: FieldInfo) -> list[Expectation]:
    found: list[Expectation] = []
    annotation, optional = _unwrap_optional(info.annotation)
    if info.is_required() and not optional:
        found.append(gxe.ExpectColumnValuesToNotBeNull(column=name, description=f"{table}.{name} is present"))
    found.extend(_type_expectations(table, name, annotation, info))
    return found


def _type_expectations(table: str, name: str, annotation: Any, info: FieldInfo) -> list[Expectation]:
    what = f"{table}.{name}"
    if get_origin(annotation) is Literal:
        return [gxe.ExpectColumnValuesToBeInSet(
            column=name, value_set=list(get_args(annotation)), description=f"{what} is one of its enum values")]
    if annotation is UUID:
        return [gxe.ExpectColumnValuesToMatchRegex(column=name, regex=UUID_PATTERN, description=f"{what} is a UUID")]
    if annotation is datetime:
        return [gxe.ExpectColumnValuesToMatchRegex(
            column=name, regex=TIMESTAMP_PATTERN, description=f"{what} is an ISO 8601 timestamp with a zone")]
    if any(type(m).__name__ == "Json" for m in info.metadata) or _is_json(annotation):
        return [gxe.ExpectColumnValuesToBeJsonParseable(column=name, description=f"{what} is JSON text")]
    simple = {bool: "bool", int: "int", str: "str"}.get(annotation)
    if simple is None:
        return []
    # Known gap: great-expectations checks with isinstance, so a JSON true passes as an integer
    # (bool subclasses int); a number in a boolean column is still caught.
    return [gxe.ExpectColumnValuesToBeInTypeList(
        column=name, type_list=[simple], description=f"{what} is a JSON {_JSON_NAMES[simple]}")]


_JSON_NAMES = {"bool": "boolean", "int": "integer", "str": "string"}


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) != len(get_args(annotation))
    return annotation, False


def _is_json(annotation: Any) -> bool:
    return "Json" in repr(annotation)
