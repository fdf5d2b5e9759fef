"""Incremental snapshots while streaming: Debezium's signal-table protocol (DBLog watermarks).

An ``execute-snapshot`` signal (see :mod:`contracts.signals`) streamed from the signal
table queues its tables. Each table is then read in chunks ordered by primary key, up to
the largest key it had when its turn came. For every chunk:

1. a ``snapshot-window-open`` marker (id ``<chunk>-open``) is inserted and committed;
2. the chunk is read and a ``snapshot-window-close`` marker (``<chunk>-close``) inserted
   in the same transaction;
3. when the stream delivers the open marker the window opens: every streamed change of
   the table removes its key from the chunk (the stream's version is newer);
4. when the stream delivers the close marker, what is left of the chunk is emitted right
   after it, and the next chunk starts. The records are shaped as Debezium 3.2.7 shapes
   them (checked against it by ``tests/conformance/test_incremental_snapshot_conformance``):
   op ``r``, ``source.snapshot = "incremental"``, ``source.lsn`` and ``source.txId`` null,
   ``source.sequence`` the close marker's own (its second element is the marker's LSN:
   the reads' place in the stream), ``source.ts_ms`` the time of sending, no transaction
   block. The record's own ``lsn`` (not part of the value) is the marker's.

One difference from Debezium, on purpose: the chunk is read ``FOR SHARE`` in the
transaction that writes the close marker. Debezium's consumers apply events in arrival
order; ours order a row's facts by LSN. A writer that changed a chunk row before the
close marker but committed after it would otherwise carry an LSN below the marker's and
lose to the older value read in the chunk. With the share lock such a writer either
commits before the read (the read sees it) or writes after the marker (a higher LSN).
When the lock cannot be had within ``lock_timeout`` a few times, the chunk is read
without it, as Debezium does, and a warning says so.

A snapshot running when the connector stops is restarted from its signal at the next
start (its progress rows are still unfinished). Progress per table is kept in memory
(:meth:`IncrementalSnapshots.progress`) and in ``rustok_snapshot_progress``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from contracts.signals import (
    EXECUTE_SNAPSHOT, INCREMENTAL, PROGRESS_TABLE, SIGNAL_TABLE, WINDOW_CLOSE, WINDOW_OPEN, InvalidSignal,
    parse_snapshot_signal, table_of,
)
from contracts.topics import DEFAULT_SCHEMA

from . import catalog
from .envelope import EnvelopeBuilder
from .records import ChangeRecord
from .tables import Row, TableSchema

log = logging.getLogger(__name__)

Key = tuple[Any, ...]
CHUNK_SIZE = 1024
LOCK_ATTEMPTS = 3


@dataclass
class TableProgress:
    """How far one table of one requested snapshot has got.

    ``rows_total`` is the count (with the request's filter) when the request arrived;
    ``rows_done`` the rows read so far (rows inserted meanwhile can take it past the total).
    """

    signal_id: str
    collection: str
    rows_total: int
    rows_done: int = 0
    finished: bool = False
    error: str | None = None


@dataclass
class _Job:
    progress: TableProgress
    condition: str | None
    table: TableSchema | None = None
    max_key: tuple[str | None, ...] | None = None
    last_key: tuple[str | None, ...] | None = None


@dataclass
class _Chunk:
    job: _Job
    chunk_id: str
    rows: dict[Key, Row] = field(default_factory=dict)
    complete: bool = False  # the table has no rows after this chunk
    window_open: bool = False


class IncrementalSnapshots:
    """Runs the incremental snapshots requested through the signal table.

    Parameters:
        dsn: a normal connection string (the connector's own database).
        envelope: builds the Debezium values.
        chunk_size: rows per chunk (Debezium's ``incremental.snapshot.chunk.size``).
        lock_timeout: seconds to wait for the share lock on a chunk's rows.
    """

    def __init__(self, dsn: str, envelope: EnvelopeBuilder, chunk_size: int = CHUNK_SIZE,
                 lock_timeout: float = 2.0) -> None:
        self._dsn = dsn
        self._envelope = envelope
        self._chunk_size = chunk_size
        self._lock_timeout_ms = max(1, int(lock_timeout * 1000))
        self._signal_topic = f"{envelope.prefix}.{DEFAULT_SCHEMA}.{SIGNAL_TABLE}"
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._jobs: deque[_Job] = deque()
        self._chunk: _Chunk | None = None
        self._progress: list[TableProgress] = []

    # -- public ----------------------------------------------------------------------

    def progress(self) -> list[TableProgress]:
        """Every table of every snapshot requested since start, in request order (copies)."""
        return [TableProgress(**vars(p)) for p in self._progress]

    @property
    def running(self) -> bool:
        return self._chunk is not None or bool(self._jobs)

    def resume(self) -> None:
        """Restart the snapshots a previous run left unfinished (from their signal rows)."""
        conn = self._connection()
        rows = conn.execute(
            f"SELECT s.id, s.type, s.data, min(p.started_at) FROM {PROGRESS_TABLE} p"
            f" JOIN {SIGNAL_TABLE} s ON s.id = p.signal_id WHERE p.finished_at IS NULL"
            " GROUP BY s.id, s.type, s.data ORDER BY 4"
        ).fetchall()
        for signal_id, kind, data, _ in rows:
            log.info("resuming an unfinished incremental snapshot", extra={"signal": signal_id})
            self._request(str(signal_id), str(kind), None if data is None else str(data))
        self._next_chunk()

    def process(self, records: Sequence[ChangeRecord]) -> list[ChangeRecord]:
        """One streamed transaction in, the same records out with chunk reads placed
        after their close marker; queues requested snapshots and starts chunks."""
        out: list[ChangeRecord] = []
        for record in records:
            out.append(record)
            if record.topic == self._signal_topic:
                out.extend(self._on_signal(record))
            elif self._chunk is not None and self._chunk.window_open:
                self._deduplicate(self._chunk, record)
        if self._chunk is None and self._jobs:
            self._next_chunk()
        return out

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the stream side ---------------------------------------------------------------

    def _on_signal(self, record: ChangeRecord) -> list[ChangeRecord]:
        value = record.value
        if value is None or value.get("op") != "c" or value.get("after") is None:
            return []
        row = value["after"]
        kind, signal_id = row.get("type"), str(row.get("id"))
        chunk = self._chunk
        if kind == EXECUTE_SNAPSHOT:
            self._request(signal_id, EXECUTE_SNAPSHOT, row.get("data"))
        elif kind == WINDOW_OPEN and chunk is not None and signal_id == f"{chunk.chunk_id}-open":
            chunk.window_open = True
        elif kind == WINDOW_CLOSE and chunk is not None and signal_id == f"{chunk.chunk_id}-close":
            emitted = self._emit(chunk, record)
            self._chunk = None
            self._next_chunk()
            return emitted
        return []

    def _deduplicate(self, chunk: _Chunk, record: ChangeRecord) -> None:
        table = chunk.job.table
        if table is None or record.key is None or record.topic != table.topic(self._envelope.prefix):
            return
        key = tuple(record.key.get(c) for c in table.key_columns)
        if chunk.rows.pop(key, None) is not None:
            log.debug("row changed inside the window; dropped from the chunk", extra={"table": table.name})

    def _emit(self, chunk: _Chunk, close: ChangeRecord) -> list[ChangeRecord]:
        table = chunk.job.table
        assert table is not None and close.value is not None
        sequence = close.value["source"].get("sequence")
        topic = table.topic(self._envelope.prefix)
        records = []
        for after in chunk.rows.values():
            source = self._envelope.source(
                schema=table.schema, table=table.name, ts_micros=time.time_ns() // 1000, snapshot=INCREMENTAL,
                last_commit_lsn=None, lsn=None, tx_id=None,
            )
            source["sequence"] = sequence
            value = self._envelope.value("r", None, after, source, None)
            records.append(ChangeRecord(topic, table.key_of(after), value, close.lsn, None))
        if chunk.complete:
            self._finish(chunk.job, None)
        log.info("incremental snapshot chunk emitted", extra={
            "table": table.name, "rows": len(records), "lsn": close.lsn, "signal": chunk.job.progress.signal_id})
        return records

    # -- the database side -------------------------------------------------------------

    def _request(self, signal_id: str, kind: str, data: str | None) -> None:
        try:
            request = parse_snapshot_signal(kind, data)
        except InvalidSignal as exc:
            log.warning("ignoring a malformed execute-snapshot signal: %s", exc, extra={"signal": signal_id})
            return
        if any(job.progress.signal_id == signal_id for job in self._jobs):
            return  # replayed after a restart that already resumed it
        for collection in request.collections:
            job = _Job(TableProgress(signal_id, collection, 0), request.filter_of(collection))
            self._progress.append(job.progress)
            self._jobs.append(job)
            self._prepare(job)

    def _prepare(self, job: _Job) -> None:
        """Count the rows to read and record the table's progress row."""
        conn = self._connection()
        progress = job.progress
        try:
            where = _where(job.condition)
            total = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                _identifier(progress.collection), where)).fetchone()
            progress.rows_total = int(str(total[0])) if total else 0
        except psycopg.Error as exc:
            progress.error = f"cannot read {progress.collection}: {exc}".strip()
            progress.finished = True
            log.error("incremental snapshot cannot read a table", extra={"table": progress.collection,
                                                                         "signal": progress.signal_id,
                                                                         "error": progress.error})
        conn.execute(
            f"INSERT INTO {PROGRESS_TABLE} (signal_id, collection, rows_total, rows_done, finished_at, error)"
            " VALUES (%s, %s, %s, 0, CASE WHEN %s THEN now() END, %s)"
            " ON CONFLICT (signal_id, collection) DO UPDATE SET rows_total = EXCLUDED.rows_total, rows_done = 0,"
            " started_at = now(), updated_at = now(), finished_at = EXCLUDED.finished_at, error = EXCLUDED.error",
            (progress.signal_id, progress.collection, progress.rows_total, progress.finished, progress.error),
        )

    def _next_chunk(self) -> None:
        """Start the next chunk of the current table, moving on to the next table when one is done."""
        while self._chunk is None and self._jobs:
            job = self._jobs[0]
            if job.progress.finished:
                self._jobs.popleft()
                continue
            chunk = self._read_chunk(job)
            if chunk is None:  # nothing left to read: the previous chunk was the last full one
                self._finish(job, None)
                self._jobs.popleft()
                continue
            if chunk.complete:
                self._jobs.popleft()
            self._chunk = chunk

    def _read_chunk(self, job: _Job) -> _Chunk | None:
        conn = self._connection()
        try:
            if job.table is None:
                self._describe(conn, job)
            table = job.table
            assert table is not None
            if job.max_key is None:
                return None
            chunk = _Chunk(job, str(uuid.uuid4()))
            with conn.transaction():
                conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(sql.Identifier(SIGNAL_TABLE)),
                             (f"{chunk.chunk_id}-open", WINDOW_OPEN, _window_data()))
            texts = self._select_and_close(conn, job, chunk)
        except psycopg.Error as exc:
            self._finish(job, f"incremental snapshot of {job.progress.collection} failed: {exc}".strip())
            return None
        if not texts:
            # The close marker is already written: emit an empty chunk when it streams by.
            chunk.complete = True
            return chunk
        positions = [next(i for i, c in enumerate(table.columns) if c.name == k) for k in table.key_columns]
        for values in texts:
            after = table.row_from_catalog_order(values)
            chunk.rows[tuple(after.get(c) for c in table.key_columns)] = after
        job.last_key = tuple(texts[-1][i] for i in positions)
        chunk.complete = len(texts) < self._chunk_size or job.last_key == job.max_key
        job.progress.rows_done += len(texts)
        conn.execute(f"UPDATE {PROGRESS_TABLE} SET rows_done = %s, updated_at = now()"
                     " WHERE signal_id = %s AND collection = %s",
                     (job.progress.rows_done, job.progress.signal_id, job.progress.collection))
        return chunk

    def _select_and_close(self, conn: psycopg.Connection[tuple[object, ...]], job: _Job,
                          chunk: _Chunk) -> list[tuple[str | None, ...]]:
        """Read the chunk and write its close marker in one transaction (see the module doc)."""
        for attempt in range(LOCK_ATTEMPTS + 1):
            locking = attempt < LOCK_ATTEMPTS
            if not locking:
                log.warning("reading the chunk without share locks (as Debezium does)",
                            extra={"table": job.progress.collection})
            try:
                with conn.transaction():
                    if locking:
                        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self._lock_timeout_ms)))
                    texts = self._copy_chunk(conn, job, locking)
                    conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(sql.Identifier(SIGNAL_TABLE)),
                                 (f"{chunk.chunk_id}-close", WINDOW_CLOSE, _window_data()))
                return texts
            except psycopg.errors.LockNotAvailable:
                log.warning("chunk rows are locked by a long transaction; retrying",
                            extra={"table": job.progress.collection, "attempt": attempt + 1})
        raise AssertionError("the last attempt takes no lock")

    def _copy_chunk(self, conn: psycopg.Connection[tuple[object, ...]], job: _Job,
                    locking: bool) -> list[tuple[str | None, ...]]:
        table = job.table
        assert table is not None and job.max_key is not None
        keys = sql.SQL(", ").join(sql.Identifier(c) for c in table.key_columns)
        bounds = [_where(job.condition), sql.SQL("({}) <= ({})").format(keys, _literals(job.max_key))]
        if job.last_key is not None:
            bounds.append(sql.SQL("({}) > ({})").format(keys, _literals(job.last_key)))
        query = sql.SQL("COPY (SELECT * FROM {}.{} WHERE {} ORDER BY {} LIMIT {}{}) TO STDOUT").format(
            sql.Identifier(table.schema), sql.Identifier(table.name), sql.SQL(" AND ").join(bounds), keys,
            sql.Literal(self._chunk_size), sql.SQL(" FOR SHARE" if locking else ""),
        )
        with conn.cursor() as cursor, cursor.copy(query) as copy:
            return [tuple(row) for row in copy.rows()]

    def _describe(self, conn: psycopg.Connection[tuple[object, ...]], job: _Job) -> None:
        collection = job.progress.collection
        schema, name = collection.rpartition(".")[0] or DEFAULT_SCHEMA, table_of(collection)
        table = catalog.describe_table(conn, schema, name, catalog.load_types(conn))
        if not table.key_columns:
            raise psycopg.DataError(f"{collection} has no primary key to chunk by")
        job.table = table
        keys = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in table.key_columns)
        order = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(c)) for c in table.key_columns)
        row = conn.execute(sql.SQL("SELECT {} FROM {}.{} WHERE {} ORDER BY {} LIMIT 1").format(
            keys, sql.Identifier(schema), sql.Identifier(name), _where(job.condition), order)).fetchone()
        job.max_key = None if row is None else tuple(None if v is None else str(v) for v in row)

    def _finish(self, job: _Job, error: str | None) -> None:
        progress = job.progress
        if progress.finished:
            return
        progress.finished, progress.error = True, error
        if error is not None:
            log.error("incremental snapshot failed", extra={"table": progress.collection, "error": error})
        else:
            log.info("incremental snapshot of a table complete", extra={
                "table": progress.collection, "rows": progress.rows_done, "signal": progress.signal_id})
        self._connection().execute(
            f"UPDATE {PROGRESS_TABLE} SET rows_done = %s, finished_at = now(), updated_at = now(), error = %s"
            " WHERE signal_id = %s AND collection = %s",
            (progress.rows_done, error, progress.signal_id, progress.collection))

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = catalog.connect(self._dsn)
        return self._conn


def _identifier(collection: str) -> sql.Composable:
    schema, _, name = collection.rpartition(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema or DEFAULT_SCHEMA), sql.Identifier(name))


def _where(condition: str | None) -> sql.Composable:
    # The filter is SQL by contract (Debezium's additional-conditions): whoever may write
    # signals may read the table anyway.
    return sql.SQL("TRUE") if condition is None else sql.SQL("({})").format(sql.SQL(condition))


def _literals(values: Sequence[str | None]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Literal(v) for v in values)


def _window_data() -> str:
    # SignalMetadata: the open timestamp (and the close one on the close marker).
    return json.dumps({"openWindowTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

