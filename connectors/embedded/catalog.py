"""Reads what the connector needs from the PostgreSQL catalog: types, published tables."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from .errors import CatalogError, PublicationMissing
from .tables import ColumnSpec, TableSchema
from .types import PgType, TypeRegistry

log = logging.getLogger(__name__)

# Output-function settings for every session the connector opens, so that text values
# look the same in the snapshot and in the stream (and as pgjdbc sessions see them).
SESSION_OPTIONS = (
    "-c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC "
    "-c extra_float_digits=3 -c bytea_output=hex -c client_encoding=UTF8"
)

_TYPES_SQL = """
SELECT t.oid, t.typname, n.nspname, t.typtype, t.typcategory, t.typelem, t.typbasetype,
       t.typtypmod, t.typdelim,
       COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                   FROM pg_enum e WHERE e.enumtypid = t.oid), '{}')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
"""

_COLUMNS_SQL = """
SELECT a.attname, a.atttypid, a.atttypmod
  FROM pg_attribute a
 WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""

_KEY_SQL = """
SELECT a.attname
  FROM pg_index i
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s AND i.indisprimary
 ORDER BY k.ord
"""

_RELATION_SQL = """
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relname = %s
"""


@dataclass(frozen=True, slots=True)
class PublishedTable:
    schema: str
    name: str


def connect(dsn: str, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
    """A normal (non-replication) session with the connector's output settings."""
    return psycopg.connect(dsn, autocommit=autocommit, options=SESSION_OPTIONS)


def load_types(conn: psycopg.Connection[tuple[object, ...]]) -> TypeRegistry:
    rows = conn.execute(_TYPES_SQL).fetchall()
    return TypeRegistry(
        PgType(
            oid=int(str(row[0])),
            name=str(row[1]),
            namespace=str(row[2]),
            typtype=str(row[3]),
            category=str(row[4]),
            element_oid=int(str(row[5])),
            base_oid=int(str(row[6])),
            base_typmod=int(str(row[7])),
            delimiter=str(row[8]),
            enum_labels=tuple(str(label) for label in row[9]),  # type: ignore[attr-defined]
        )
        for row in rows
    )


def published_tables(
    conn: psycopg.Connection[tuple[object, ...]], publication: str, include_order: Sequence[str] = ()
) -> list[PublishedTable]:
    """The publication's tables, ordered as Debezium orders its snapshot.

    Debezium snapshots the tables its ``table.include.list`` matches in the order of
    that list; tables named in ``include_order`` (``schema.table``, or ``table`` of
    schema ``public``) come first in that order, the rest follow by table id.
    """
    if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (publication,)).fetchone() is None:
        raise PublicationMissing(f"publication {publication!r} does not exist; create it (migrations do) first")
    rows = conn.execute(
        "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s", (publication,)
    ).fetchall()
    tables = [PublishedTable(str(schema), str(name)) for schema, name in rows]
    # TableId.compareTo compares "schema.table" strings (the catalog part is the same db).
    rank = {(name if "." in name else f"public.{name}"): position for position, name in enumerate(include_order)}
    return sorted(
        tables,
        key=lambda table: (
            rank.get(f"{table.schema}.{table.name}", len(rank)),
            f"{table.schema}.{table.name}",
        ),
    )


def describe_table(
    conn: psycopg.Connection[tuple[object, ...]], schema: str, name: str, registry: TypeRegistry
) -> TableSchema:
    """Columns and primary key of a table, with converters chosen; loads unknown types."""
    found = conn.execute(_RELATION_SQL, (schema, name)).fetchone()
    if found is None:
        raise CatalogError(f"table {schema}.{name} does not exist")
    relid = found[0]
    specs = [
        ColumnSpec(str(col), int(str(oid)), int(str(typmod))) for col, oid, typmod in conn.execute(_COLUMNS_SQL, (relid,))
    ]
    if any(spec.type_oid not in registry for spec in specs):
        registry.add(load_types(conn))
    key = [str(row[0]) for row in conn.execute(_KEY_SQL, (relid,))]
    table = TableSchema.build(schema, name, specs, key, registry)
    omitted = [column.name for column in table.columns if column.converter is None]
    if omitted:
        log.warning("columns without a Debezium schema are left out", extra={"table": f"{schema}.{name}", "columns": omitted})
    return table
