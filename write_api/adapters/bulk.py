"""Plain inserts straight through psycopg, for rows held until the commit.

Held rows (``TenantTables.insert_later``, the outbox) are sent inside the commit's
pipeline, where nothing reads a result back, so SQLAlchemy's statement compilation and
result set-up per statement buy nothing; on the hot path (a product creation sends eight
such statements) they cost more CPU than PostgreSQL spends on the rows.

Each group of rows (same table, same columns) goes as one statement with one parameter:
the rows as a JSON array (orjson), expanded by ``jsonb_populate_recordset`` into the
table's own row type, so PostgreSQL converts every value to its column's type. psycopg
adapting each value of each row in Python (``executemany``) was most of the client's CPU
for a product's variants and prices. JSON columns are serialized by ``json.dumps`` as
psycopg's ``Jsonb`` would, and embedded as they are (``orjson.Fragment``): the same
document reaches the column, and the same errors (``NaN``) come back. A row orjson cannot
encode (an integer beyond 64 bits) sends its group the old way, one row at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb

Row = dict[str, Any]


@cache
def _statements(table: sa.Table, columns: tuple[str, ...]) -> tuple[bytes, bytes, tuple[bool, ...]]:
    # Rendered to bytes once: a psycopg ``sql.Composed`` would be rendered again (and its
    # placeholders converted again) on every execute. The names come from the models.
    names = ", ".join(f'"{c}"' for c in columns)
    from_json = (f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
                 f'FROM jsonb_populate_recordset(NULL::"{table.name}", %s::jsonb)').encode()
    per_row = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join(["%s"] * len(columns))})'.encode()
    is_json = tuple(isinstance(table.c[c].type, sa.JSON) for c in columns)
    return from_json, per_row, is_json


def send_inserts(conn: psycopg.Connection[Any], table: sa.Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table``; rows may differ in their keys."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    with conn.cursor() as cursor:
        for columns, group in groups.items():
            from_json, per_row, is_json = _statements(table, columns)
            try:
                document = orjson.dumps(_with_json_fragments(group, columns, is_json) if any(is_json) else group)
            except orjson.JSONEncodeError:
                cursor.executemany(per_row, [
                    tuple(Jsonb(v) if js and v is not None else v for v, js in zip(r.values(), is_json, strict=True))
                    for r in group
                ])
                continue
            cursor.execute(from_json, [document.decode()])


def _with_json_fragments(rows: list[Row], columns: tuple[str, ...], is_json: tuple[bool, ...]) -> list[Row]:
    json_columns = [c for c, js in zip(columns, is_json, strict=True) if js]
    return [{**r, **{c: orjson.Fragment(json.dumps(r[c])) for c in json_columns if r[c] is not None}} for r in rows]
