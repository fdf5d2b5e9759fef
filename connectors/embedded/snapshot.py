"""The initial snapshot: every published table read in the slot's exported snapshot.

Reproduces Debezium's ``initial`` snapshot of a new slot: tables in the order of the
include list (``table.include.list``; tables it does not name follow in table-id order),
rows as ``SELECT *`` returns them, op ``r``, ``source.snapshot`` marking the first
record (``first``), each table's first and last (``first_in_data_collection``,
``last_in_data_collection``), the very last record of the snapshot (``last``) and
``true`` for the rest; ``source.ts_ms`` is the snapshot transaction's
``CURRENT_TIMESTAMP``, ``source.lsn`` the slot's consistent point, ``source.txId`` the
snapshot transaction's id, no ``transaction`` block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from . import catalog
from .envelope import EnvelopeBuilder
from .records import ChangeRecord
from .tables import TableSchema

log = logging.getLogger(__name__)

Deliver = Callable[[Sequence[ChangeRecord]], None]


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    tables: int
    rows: int


def snapshot_marker(first_table: bool, last_table: bool, first_in_table: bool, last_in_table: bool) -> str:
    """``RelationalSnapshotChangeEventSource.setSnapshotMarker``."""
    if last_in_table and last_table:
        return "last"
    if first_in_table and first_table:
        return "first"
    if last_in_table:
        return "last_in_data_collection"
    if first_in_table:
        return "first_in_data_collection"
    return "true"


class SnapshotReader:
    """Reads the published tables inside an exported snapshot and delivers ``r`` records.

    Parameters:
        dsn: a normal (non-replication) connection string.
        envelope: builds the Debezium values.
        publication: whose tables to read.
        batch_size: records per delivered batch.
        include_order: tables in Debezium's ``table.include.list`` order (see
            :func:`catalog.published_tables`).
        only: when set, just these tables (``schema.table``) are read.
    """

    def __init__(
        self,
        dsn: str,
        envelope: EnvelopeBuilder,
        publication: str,
        batch_size: int = 2000,
        include_order: Sequence[str] = (),
        only: frozenset[str] | None = None,
    ) -> None:
        self._dsn = dsn
        self._envelope = envelope
        self._publication = publication
        self._batch_size = batch_size
        self._include_order = tuple(include_order)
        self._only = only

    def run(self, snapshot_name: str, consistent_point: int, deliver: Deliver) -> SnapshotResult:
        with catalog.connect(self._dsn) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot_name)))
            registry = catalog.load_types(conn)
            published = catalog.published_tables(conn, self._publication, self._include_order)
            if self._only is not None:
                published = [t for t in published if f"{t.schema}.{t.name}" in self._only]
            tables = [catalog.describe_table(conn, t.schema, t.name, registry) for t in published]
            row = conn.execute(
                "SELECT txid_current(), (EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000000)::bigint"
            ).fetchone()
            assert row is not None
            tx_id, ts_micros = int(str(row[0])), int(str(row[1]))
            batch: list[ChangeRecord] = []
            held: ChangeRecord | None = None
            rows = 0
            for order, table in enumerate(tables, start=1):
                for record in self._table_records(conn, table, order, len(tables), tx_id, ts_micros, consistent_point):
                    rows += 1
                    if held is not None:
                        batch.append(held)
                        if len(batch) >= self._batch_size:
                            deliver(batch)
                            batch = []
                    held = record
            if held is not None:
                batch.append(self._as_last(held, consistent_point))
            if batch:
                deliver(batch)
            conn.execute("COMMIT")
        log.info("snapshot complete", extra={"tables": len(tables), "rows": rows, "lsn": consistent_point})
        return SnapshotResult(tables=len(tables), rows=rows)

    def _table_records(
        self, conn: psycopg.Connection[tuple[object, ...]], table: TableSchema, order: int, count: int, tx_id: int, ts_micros: int, lsn: int
    ) -> Iterator[ChangeRecord]:
        envelope = self._envelope
        topic = table.topic(envelope.prefix)
        query = sql.SQL("COPY (SELECT * FROM {}.{}) TO STDOUT").format(
            sql.Identifier(table.schema), sql.Identifier(table.name)
        )
        # The reads of a table with one marker share one source block (nobody mutates a
        # record's value); the in-process consumer validates each block once (decode.py).
        sources: dict[str, dict[str, Any]] = {}
        with conn.cursor() as cursor, cursor.copy(query) as copy:
            rows = copy.rows()
            current = next(rows, None)
            position = 0
            while current is not None:
                following = next(rows, None)
                position += 1
                marker = snapshot_marker(order == 1, order == count, position == 1, following is None)
                after = table.row_from_catalog_order(current)
                source = sources.get(marker)
                if source is None:
                    source = sources[marker] = envelope.source(
                        schema=table.schema, table=table.name, ts_micros=ts_micros, snapshot=marker,
                        last_commit_lsn=None, lsn=lsn, tx_id=tx_id,
                    )
                value = envelope.value("r", None, after, source, None)
                yield ChangeRecord(topic, table.key_of(after), value, lsn, None)
                current = following

    @staticmethod
    def _as_last(record: ChangeRecord, consistent_point: int) -> ChangeRecord:
        # The buffering snapshot receiver marks the very last record "last", even when it
        # came from a table other than the last one (whose tables were empty).
        assert record.value is not None
        value = dict(record.value)
        value["source"] = {**value["source"], "snapshot": "last"}
        return ChangeRecord(record.topic, record.key, value, record.lsn, consistent_point, record.headers)
