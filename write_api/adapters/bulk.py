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
from psycopg.types.json import Jsonb

Row = dict[str, Any]


@cache
def _statement(table: sa.Table, columns: tuple[str, ...]) -> tuple[bytes, tuple[bool, ...]]:
    # Rendered to bytes once: a psycopg ``sql.Composed`` would be rendered again (and its
    # placeholders converted again) on every execute. The names come from the models.
    names = ", ".join(f'"{c}"' for c in columns)
    text = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join(["%s"] * len(columns))})'.encode()
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
