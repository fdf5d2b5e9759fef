"""Signals: requests to the CDC connectors written into Debezium's signal table.

The table ``rustok_signals(id, type, data)`` has Debezium's layout, so the same row asks
Debezium (source signalling channel) and the embedded connector for the same thing. The
one signal we send is ``execute-snapshot`` with type ``incremental``: re-read some
tables (optionally filtered, e.g. one tenant) while streaming goes on. The connectors
themselves write ``snapshot-window-open`` / ``snapshot-window-close`` markers around each
chunk they read (the DBLog watermark algorithm).

Errors: ``InvalidSignal`` (a ``ContractError``) for a request or a payload that cannot be
understood; nothing is written when a request is invalid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from contracts.captured import CAPTURED_TABLES
from contracts.errors import ContractError
from contracts.ids import InvalidId, new_id, parse_id
from contracts.topics import DEFAULT_SCHEMA

SIGNAL_TABLE = "rustok_signals"
SIGNAL_COLLECTION = f"{DEFAULT_SCHEMA}.{SIGNAL_TABLE}"
PROGRESS_TABLE = "rustok_snapshot_progress"

EXECUTE_SNAPSHOT = "execute-snapshot"
WINDOW_OPEN = "snapshot-window-open"
WINDOW_CLOSE = "snapshot-window-close"
INCREMENTAL = "incremental"


class InvalidSignal(ContractError, ValueError):
    """A signal request or payload that cannot be understood."""


@dataclass(frozen=True)
class SnapshotRequest:
    """An ``execute-snapshot`` signal: which collections to re-read, and with which filters.

    ``collections`` are ``schema.table`` names in request order; ``conditions`` maps some of
    them to an SQL boolean expression over that table's columns.
    """

    collections: tuple[str, ...]
    conditions: Mapping[str, str] = field(default_factory=dict)
    snapshot_type: str = INCREMENTAL

    def filter_of(self, collection: str) -> str | None:
        return self.conditions.get(collection)


def collection_name(table: str) -> str:
    """``commerce_products`` or ``public.commerce_products`` → ``public.commerce_products``.

    Only captured tables can be snapshotted: anything else is an InvalidSignal.
    """
    text = table.strip()
    schema, _, name = text.rpartition(".")
    if schema not in ("", DEFAULT_SCHEMA) or name not in CAPTURED_TABLES:
        raise InvalidSignal(f"{table!r} is not a captured table (one of {', '.join(CAPTURED_TABLES)})")
    return f"{DEFAULT_SCHEMA}.{name}"


def table_of(collection: str) -> str:
    """``public.commerce_products`` → ``commerce_products``."""
    return collection.rpartition(".")[2]


def tenant_conditions(tables: Sequence[str], tenant_id: UUID | str) -> dict[str, str]:
    """Filters restricting each table to one tenant's rows (``tenants`` is keyed by ``id``).

    The tenant id is parsed first, so the filter text can never carry anything but a UUID.
    """
    try:
        tenant = parse_id(tenant_id)
    except InvalidId as exc:
        raise InvalidSignal(f"tenant id {tenant_id!r} is not a ULID or UUID") from exc
    conditions: dict[str, str] = {}
    for table in tables:
        collection = collection_name(table)
        column = "id" if table_of(collection) == "tenants" else "tenant_id"
        conditions[collection] = f"{column} = '{tenant}'"
    return conditions


def snapshot_request(collections: Sequence[str], conditions: Mapping[str, str] | None = None) -> SnapshotRequest:
    """Validate and normalise a request: captured tables, no duplicates, filters on requested tables only."""
    if isinstance(collections, str) or not collections:
        raise InvalidSignal("an incremental snapshot needs a non-empty list of tables")
    names = tuple(collection_name(c) for c in collections)
    if len(set(names)) != len(names):
        raise InvalidSignal(f"tables requested twice: {', '.join(names)}")
    filters: dict[str, str] = {}
    for key, condition in (conditions or {}).items():
        collection = collection_name(key)
        if collection not in names:
            raise InvalidSignal(f"a filter for {collection}, which is not among the requested tables")
        if not isinstance(condition, str) or not condition.strip():
            raise InvalidSignal(f"the filter for {collection} is empty")
        filters[collection] = condition.strip()
    return SnapshotRequest(names, filters)


def snapshot_signal_data(request: SnapshotRequest) -> str:
    """The ``data`` column of an ``execute-snapshot`` signal, in Debezium's JSON format."""
    data: dict[str, Any] = {"data-collections": list(request.collections), "type": request.snapshot_type}
    if request.conditions:
        data["additional-conditions"] = [
            {"data-collection": c, "filter": f} for c, f in request.conditions.items()
        ]
    return json.dumps(data)


def parse_snapshot_signal(signal_type: str, data: str | None) -> SnapshotRequest:
    """Read an ``execute-snapshot`` signal row back; InvalidSignal if it is anything else or malformed."""
    if signal_type != EXECUTE_SNAPSHOT:
        raise InvalidSignal(f"signal type {signal_type!r} is not {EXECUTE_SNAPSHOT!r}")
    try:
        payload = json.loads(data or "")
    except ValueError as exc:
        raise InvalidSignal(f"execute-snapshot data is not JSON: {data!r}") from exc
    if not isinstance(payload, dict):
        raise InvalidSignal("execute-snapshot data must be a JSON object")
    kind = str(payload.get("type", INCREMENTAL)).lower()
    if kind != INCREMENTAL:
        raise InvalidSignal(f"only incremental snapshots are supported, not {kind!r}")
    collections = payload.get("data-collections")
    if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
        raise InvalidSignal("execute-snapshot data needs 'data-collections', a list of table names")
    return snapshot_request(collections, _conditions(payload.get("additional-conditions")))


def _conditions(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidSignal("'additional-conditions' must be a list")
    conditions: dict[str, str] = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("data-collection"), str) \
                or not isinstance(item.get("filter"), str):
            raise InvalidSignal(f"an additional condition needs 'data-collection' and 'filter': {item!r}")
        conditions[item["data-collection"]] = item["filter"]
    return conditions


def request_incremental_snapshot(
    conn: psycopg.Connection[Any], collections: Sequence[str], *, conditions: Mapping[str, str] | None = None,
) -> str:
    """Insert an ``execute-snapshot`` signal (incremental) and return its id.

    ``collections``: table names (``commerce_products`` or ``public.commerce_products``);
    ``conditions``: optional filter per table (see :func:`tenant_conditions`). The row is
    written in the caller's transaction: the connectors see it once that commits.
    """
    request = snapshot_request(collections, conditions)
    signal_id = str(new_id())
    conn.execute(
        f"INSERT INTO {SIGNAL_TABLE} (id, type, data) VALUES (%s, %s, %s)",
        (signal_id, EXECUTE_SNAPSHOT, snapshot_signal_data(request)),
    )
    return signal_id
