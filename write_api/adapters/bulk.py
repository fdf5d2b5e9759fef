"""Plain inserts straight through psycopg, for rows held until the commit.

Held rows (``TenantTables.insert_later``, the outbox) are sent inside the commit's
pipeline, where nothing reads a result back, so SQLAlchemy's statement compilation and
result set-up per statement buy nothing; on the hot path (a product creation sends eight
such statements) they cost more CPU than PostgreSQL spends on the rows. The SQL text is
built once per table and column set, JSON columns are wrapped for psycopg, and each
group of rows goes as one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.types.json import Jsonb

Row = dict[str, Any]


@cache
def _statement(table: sa.Table, columns: tuple[str, ...]) -> tuple[sql.Composed, tuple[bool, ...]]:
    text = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    is_json = tuple(isinstance(table.c[c].type, sa.JSON) for c in columns)
    return text, is_json


def send_inserts(conn: psycopg.Connection[Any], table: sa.Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table``; rows may differ in their keys."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    with conn.cursor() as cursor:
        for columns, group in groups.items():
            statement, is_json = _statement(table, columns)
            cursor.executemany(statement, [
                tuple(Jsonb(v) if json and v is not None else v for v, json in zip(r.values(), is_json, strict=True))
                for r in group
            ])
