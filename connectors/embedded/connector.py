"""The embedded CDC connector: a replication slot streamed in-process, Debezium-shaped.

Lifecycle::

    connector = EmbeddedConnector(ConnectorConfig(dsn=...), consumer)
    connector.start()          # new slot: snapshot first; existing slot: resume
    while running:
        connector.poll(1.0)    # deliver committed transactions, confirm what is durable
    connector.close()

On start, the consumer's :meth:`~ChangeConsumer.durable_lsn` decides: None means the
consumer has nothing, so the slot is (re)created and a consistent snapshot taken from
its exported snapshot; otherwise streaming resumes where the server's slot is
(``confirmed_flush_lsn``), and transactions that end at or before the consumer's durable
LSN are dropped as duplicates. Only LSNs the consumer reports durable are sent to the
server as flushed. psycopg2 itself moves the flush position to the server's WAL end on
keepalives once everything received was confirmed; no committed change lies in that
range, and it keeps an idle slot from pinning WAL.

Idle progress (read-your-writes): a consumer that has a ``caught_up(lsn)`` method is
told, whenever the stream is between transactions with everything received delivered,
the highest position below which every commit has been delivered. That position is
the ``wal_end`` of the last message read: for a change message its own LSN, for a
keepalive the walsender's ``sentPtr`` (the end of the last WAL record it decoded, whose
output was written to the socket before the keepalive). While idle the connector asks
for a keepalive (``reply=True``) every ``idle_reply_interval`` so the position follows
the server's WAL end even when the WAL written holds no captured change. A keepalive
read in the middle of a transaction never produces a report: only the state between
transactions, with the batch handed over, does.

A slot invalidated by ``max_slot_wal_keep_size`` (see ``lag``) makes ``start`` and
``poll`` raise :class:`SlotInvalidated`: a new snapshot is required.

A snapshot pins its slot's WAL from the consistent point until it is read, built and
streaming starts, which for a large catalogue is an hour or more; whatever the server
writes meanwhile (the application, and the sinks when the read tables are on the same
server) counts against that limit. So while a snapshot runs, the slot is looked at every
``slot_watch_interval`` seconds: before each batch is delivered and, through a consumer's
optional ``watch_snapshot(check)``, between the slices the consumer builds at the
snapshot's end. Less than a fifth of the limit left logs a warning; an invalidated slot
ends the snapshot at once with :class:`SlotInvalidated` (rather than after the build,
when START_REPLICATION would fail).
"""

from __future__ import annotations

import logging
import select
import threading
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg import sql

from contracts.captured import CAPTURED_TABLES

from . import catalog
from .envelope import EnvelopeBuilder
from .errors import ReplicationError, SlotError, SlotInUse, SlotInvalidated
from .incremental import CHUNK_SIZE, IncrementalSnapshots, TableProgress
from .lag import SlotLag, read_slot_lag
from .lsn import format_lsn, parse_lsn
from .gcpause import collector_paused
from .pgoutput import Relation, Type
from .records import ChangeConsumer, ChangeRecord
from .snapshot import SnapshotReader, SnapshotResult
from .tables import TableSchema
from .transactions import StreamAssembler, StreamOptions
from .types import TypeRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectorConfig:
    """Settings of one embedded connector.

    Parameters:
        dsn: where PostgreSQL is (``postgresql://user@host:port/db``).
        slot_name: the logical replication slot (pgoutput) the connector owns.
        publication: whose tables are captured.
        topic_prefix: Debezium's ``topic.prefix`` (also ``source.name``).
        skipped_operations: Debezium's ``skipped.operations``; ours is ``none`` (see
            ``connectors/debezium/postgres-connector.json``), so truncates are emitted.
        snapshot_batch_size: records per batch while snapshotting.
        table_include_list: the order of Debezium's ``table.include.list`` (``load_config``
            lists the contract's captured tables), which is the order Debezium snapshots
            tables in; published tables it does not name follow in table-id order.
            Which tables are captured still follows the publication.
        max_batch_records: whole transactions are grouped into one batch up to this size.
        status_interval: seconds between standby status updates when nothing changes.
        idle_reply_interval: while idle, seconds between keepalive requests that let a
            consumer with ``caught_up`` follow the server's WAL end (only then sent).
        temporary_slot: create a TEMPORARY slot (dropped when the connection closes), for
            observers such as ``rustok cdc tail`` that must not disturb the pipeline's slot.
        take_snapshot: snapshot a new slot (False: stream from its consistent point only).
        snapshot_tables: when set, only these published tables (``schema.table``) are
            snapshotted; the stream still carries every published table.
        incremental_snapshots: act on ``execute-snapshot`` signals streamed from the signal
            table (see ``incremental``); None means yes, except for temporary slots
            (observers must not write snapshot-window markers).
        incremental_chunk_size: rows per incremental snapshot chunk.
        slot_watch_interval: while a snapshot runs, seconds between looks at its slot's WAL
            headroom (a warning when at risk, :class:`SlotInvalidated` once lost).
    """

    dsn: str
    slot_name: str = "rustok_embedded"
    publication: str = "rustok_cdc"
    topic_prefix: str = "rustok"
    skipped_operations: frozenset[str] = field(default_factory=frozenset)
    tombstones_on_delete: bool = True
    provide_transaction_metadata: bool = True
    snapshot_batch_size: int = 2000
    table_include_list: tuple[str, ...] = CAPTURED_TABLES
    max_batch_records: int = 5000
    status_interval: float = 10.0
    idle_reply_interval: float = 0.075
    temporary_slot: bool = False
    take_snapshot: bool = True
    snapshot_tables: frozenset[str] | None = None
    incremental_snapshots: bool | None = None
    incremental_chunk_size: int = CHUNK_SIZE
    slot_watch_interval: float = 30.0

    @property
    def runs_incremental_snapshots(self) -> bool:
        return not self.temporary_slot if self.incremental_snapshots is None else self.incremental_snapshots


class _CatalogResolver:
    """Describes the table behind each Relation message from the live catalog."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn
        self._registry: TypeRegistry = catalog.load_types(conn)

    def table_for(self, relation: Relation) -> TableSchema | None:
        if any(column.type_oid not in self._registry for column in relation.columns):
            self._registry = catalog.load_types(self._conn)
        return catalog.describe_table(self._conn, relation.namespace, relation.name, self._registry)

    def on_type(self, message: Type) -> None:
        if message.type_oid not in self._registry:
            self._registry = catalog.load_types(self._conn)


class EmbeddedConnector:
    """Streams one replication slot into one :class:`ChangeConsumer`.

    Parameters:
        config: the connector settings.
        consumer: receives batches of whole transactions and reports what is durable.
    """

    def __init__(self, config: ConnectorConfig, consumer: ChangeConsumer) -> None:
        self.config = config
        self._consumer = consumer
        self._catalog: psycopg.Connection[tuple[object, ...]] | None = None
        self._replication: psycopg2.extensions.connection | None = None
        self._cursor: psycopg2.extras.ReplicationCursor | None = None
        self._assembler: StreamAssembler | None = None
        self._skip_through: int | None = None
        self._confirmed: int = 0
        self._confirmed_at: float | None = None
        self._last_feedback = 0.0
        self._last_reply_request = 0.0
        self._reported: int = 0
        self._caught_up = getattr(consumer, "caught_up", None)
        self._watch_snapshot = getattr(consumer, "watch_snapshot", None)
        self._slot_watched_at = 0.0
        self._incremental: IncrementalSnapshots | None = None
        self.snapshot_result: SnapshotResult | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Connect, snapshot if the consumer has nothing yet, and start streaming."""
        self._catalog = catalog.connect(self.config.dsn)
        self._catalog.execute("SELECT 1")
        database = str(self._require(self._catalog.execute("SELECT current_database()").fetchone())[0])
        envelope = EnvelopeBuilder(prefix=self.config.topic_prefix, database=database)
        durable = self._consumer.durable_lsn()
        slot = self._slot_state()
        if slot is not None and slot[0]:
            raise SlotInUse(f"replication slot {self.config.slot_name!r} is active for PID {slot[1]}")
        if slot is not None and slot[3] and durable is not None:
            raise SlotInvalidated(self._invalidated_message())
        self._replication = self._connect_replication()
        self._cursor = typing.cast(psycopg2.extras.ReplicationCursor, self._replication.cursor())
        last_commit: int | None
        if durable is None or slot is None or self.config.temporary_slot:
            if slot is not None:
                log.warning("consumer has no durable position; dropping the slot for a fresh snapshot",
                            extra={"slot": self.config.slot_name})
                self._catalog.execute("SELECT pg_drop_replication_slot(%s)", (self.config.slot_name,))
            self._snapshot(envelope)
            last_commit, self._skip_through = None, None
        else:
            confirmed = slot[2]
            if durable < confirmed:
                log.info("slot confirmed position is past the consumer's durable LSN",
                         extra={"slot": self.config.slot_name, "lsn": format_lsn(confirmed), "durable": format_lsn(durable)})
            last_commit, self._skip_through = durable, durable
            # Never send a flush position below what the slot already has.
            self._confirmed = confirmed
        resolver = _CatalogResolver(self._catalog)
        options = StreamOptions(
            skipped_operations=self.config.skipped_operations,
            tombstones_on_delete=self.config.tombstones_on_delete,
            provide_transaction_metadata=self.config.provide_transaction_metadata,
        )
        self._assembler = StreamAssembler(envelope, resolver, options, last_commit, resolver.on_type)
        self._start_replication()
        if self.config.runs_incremental_snapshots:
            self._start_incremental(envelope)

    def _start_incremental(self, envelope: EnvelopeBuilder) -> None:
        incremental = IncrementalSnapshots(self.config.dsn, envelope, self.config.incremental_chunk_size)
        try:
            incremental.resume()
        except psycopg.errors.UndefinedTable:
            # A database without the signal tables (migration 0009): no signals can arrive.
            log.info("no signal table; incremental snapshots off", extra={"slot": self.config.slot_name})
            incremental.close()
            return
        self._incremental = incremental

    def incremental_progress(self) -> list[TableProgress]:
        """Progress of the incremental snapshots requested since start (one entry per table)."""
        return [] if self._incremental is None else self._incremental.progress()

    def close(self) -> None:
        """Confirm what is durable, then disconnect (the slot stays for the next start)."""
        try:
            if self._cursor is not None and not self._cursor.closed:
                self._confirm(force=True)
        except psycopg2.Error:
            log.debug("final status update failed", exc_info=True)
        finally:
            if self._replication is not None:
                self._replication.close()
            if self._catalog is not None:
                self._catalog.close()
            if self._incremental is not None:
                self._incremental.close()
            self._replication = self._cursor = None
            self._catalog = None

    def __enter__(self) -> EmbeddedConnector:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(self, stop: threading.Event, poll_timeout: float = 0.5) -> None:
        """Poll until ``stop`` is set (for running the connector in a thread)."""
        while not stop.is_set():
            self.poll(poll_timeout)

    # -- streaming -------------------------------------------------------------------

    def poll(self, timeout: float = 1.0) -> int:
        """Read what the server has sent (waiting up to ``timeout`` for something),
        deliver every completed transaction and confirm durable LSNs. Returns the number
        of transactions delivered."""
        cursor, assembler = self._streaming()
        deadline = time.monotonic() + timeout
        batch: list[ChangeRecord] = []
        delivered = received = 0
        try:
            while True:
                with collector_paused():
                    read, completed, full = self._drain(cursor, assembler, batch)
                received += read
                delivered += completed
                if full or (batch and not assembler.in_transaction):
                    self._consumer.deliver(batch)
                    batch = []
                    if full:
                        self._confirm()
                        continue
                if not assembler.in_transaction:
                    self._report_progress(cursor)
                    if received:
                        break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wait(cursor, remaining, idle=not assembler.in_transaction)
            if batch:
                self._consumer.deliver(batch)
            self._confirm()
        except psycopg2.Error as exc:
            self._raise_if_invalidated()
            raise ReplicationError(f"replication stream failed: {exc}".strip()) from exc
        return delivered

    def _drain(
        self, cursor: psycopg2.extras.ReplicationCursor, assembler: StreamAssembler, batch: list[ChangeRecord]
    ) -> tuple[int, int, bool]:
        """Decode what has arrived into ``batch`` until nothing is left to read or the
        batch is full. Returns (messages read, transactions added, batch full)."""
        read = completed = 0
        limit = self.config.max_batch_records
        skip_through = self._skip_through
        while True:
            message = cursor.read_message()
            if message is None:
                return read, completed, False
            read += 1
            done = assembler.feed_payload(message.data_start, message.payload)
            if done is None or (skip_through is not None and done.end_lsn <= skip_through):
                continue
            incremental = self._incremental
            batch.extend(done.records if incremental is None else incremental.process(done.records))
            completed += 1
            if len(batch) >= limit:
                return read, completed, True

    def _wait(self, cursor: psycopg2.extras.ReplicationCursor, remaining: float, idle: bool) -> None:
        """Sleep until the server sends something; while idle, ask for keepalives so a
        ``caught_up`` consumer follows the server's WAL end."""
        wait = min(remaining, self.config.status_interval)
        if idle and self._caught_up is not None:
            now = time.monotonic()
            due = self._last_reply_request + self.config.idle_reply_interval
            if now >= due:
                cursor.send_feedback(reply=True, force=True)  # type: ignore[no-untyped-call]
                self._last_reply_request = self._last_feedback = now
                due = now + self.config.idle_reply_interval
            wait = min(wait, max(due - now, 0.0))
        select.select([cursor.connection], [], [], wait)
        self._confirm()

    def _report_progress(self, cursor: psycopg2.extras.ReplicationCursor) -> None:
        # Called only between transactions with every completed one handed over, so no
        # commit at or below wal_end is still undelivered (see the module docstring).
        if self._caught_up is None:
            return
        position = int(cursor.wal_end)
        if position > self._reported:
            self._reported = position
            self._caught_up(position)

    def lag(self) -> SlotLag:
        """Bytes and seconds this connector's slot is behind, and its WAL headroom."""
        if self._catalog is None:
            raise SlotError("connector is not started")
        since = None if self._confirmed_at is None else time.monotonic() - self._confirmed_at
        lag = read_slot_lag(self._catalog, self.config.slot_name, since)
        if lag.at_risk:
            log.warning("replication slot close to invalidation: %s", lag.describe(),
                        extra={"slot": lag.slot_name, "wal_status": lag.wal_status, "safe_wal_size": lag.safe_wal_size})
        return lag

    # -- internals -------------------------------------------------------------------

    @staticmethod
    def _require(row: tuple[object, ...] | None) -> tuple[object, ...]:
        if row is None:
            raise SlotError("the server returned no row")
        return row

    def _streaming(self) -> tuple[psycopg2.extras.ReplicationCursor, StreamAssembler]:
        if self._cursor is None or self._assembler is None:
            raise SlotError("connector is not started")
        return self._cursor, self._assembler

    def _invalidated_message(self) -> str:
        return (
            f"replication slot {self.config.slot_name!r} was invalidated by PostgreSQL (wal_status 'lost'): it "
            "fell more than max_slot_wal_keep_size behind and the WAL it needed was removed, so changes were "
            "lost. A new snapshot is required: drop the slot, reset the consumer's state and start again."
        )

    def _raise_if_invalidated(self) -> None:
        if self._catalog is None or self._catalog.closed:
            return
        try:
            slot = self._slot_state()
        except psycopg.Error:
            return
        if slot is not None and slot[3]:
            raise SlotInvalidated(self._invalidated_message())

    def _slot_state(self) -> tuple[bool, int | None, int, bool] | None:
        assert self._catalog is not None
        row = self._catalog.execute(
            "SELECT active, active_pid, confirmed_flush_lsn::text, plugin, database = current_database(), wal_status"
            "  FROM pg_replication_slots WHERE slot_name = %s",
            (self.config.slot_name,),
        ).fetchone()
        if row is None:
            return None
        active, pid, confirmed, plugin, same_db, wal_status = row
        if plugin != "pgoutput" or not same_db:
            raise SlotError(f"slot {self.config.slot_name!r} is not a pgoutput slot of this database")
        lost = wal_status == "lost"
        position = 0 if confirmed is None else parse_lsn(str(confirmed))
        return bool(active), None if pid is None else int(str(pid)), position, lost

    def _connect_replication(self) -> psycopg2.extensions.connection:
        try:
            return psycopg2.connect(
                self.config.dsn,
                connection_factory=psycopg2.extras.LogicalReplicationConnection,
                options=catalog.SESSION_OPTIONS,
            )
        except psycopg2.Error as exc:
            raise ReplicationError(f"cannot open a replication connection: {exc}".strip()) from exc

    def _snapshot(self, envelope: EnvelopeBuilder) -> None:
        assert self._cursor is not None
        command = sql.SQL("CREATE_REPLICATION_SLOT {} {} LOGICAL pgoutput (SNAPSHOT {})").format(
            sql.Identifier(self.config.slot_name),
            sql.SQL("TEMPORARY" if self.config.temporary_slot else ""),
            sql.Literal("export" if self.config.take_snapshot else "nothing"),
        )
        assert self._catalog is not None
        try:
            self._cursor.execute(command.as_string(self._catalog))
            created = self._cursor.fetchone()
        except psycopg2.Error as exc:
            raise SlotError(f"cannot create slot {self.config.slot_name!r}: {exc}".strip()) from exc
        assert created is not None
        consistent_point = parse_lsn(created[1])
        if not self.config.take_snapshot:
            log.info("slot created without a snapshot", extra={"slot": self.config.slot_name, "lsn": created[1]})
            return
        snapshot_name = str(created[2])
        log.info("slot created; snapshotting", extra={"slot": self.config.slot_name, "lsn": created[1]})
        reader = SnapshotReader(
            self.config.dsn, envelope, self.config.publication, self.config.snapshot_batch_size,
            self.config.table_include_list, self.config.snapshot_tables,
        )
        self._slot_watched_at = time.monotonic()
        if self._watch_snapshot is not None:
            self._watch_snapshot(self._watch_slot)
        try:
            self.snapshot_result = reader.run(snapshot_name, consistent_point, self._deliver_snapshot)
        finally:
            if self._watch_snapshot is not None:
                self._watch_snapshot(None)
        self._watch_slot(force=True)

    def _deliver_snapshot(self, batch: Sequence[ChangeRecord]) -> None:
        self._watch_slot()
        self._consumer.deliver(batch)

    def _watch_slot(self, force: bool = False) -> None:
        """While a snapshot runs: every ``slot_watch_interval`` seconds (or now, with
        ``force``) warn if the slot nears invalidation, and raise once it is invalidated."""
        now = time.monotonic()
        if not force and now - self._slot_watched_at < self.config.slot_watch_interval:
            return
        self._slot_watched_at = now
        lag = self.lag()  # logs the warning when at risk
        if lag.lost:
            keep = "unlimited" if lag.max_slot_wal_keep_size is None else f"{lag.max_slot_wal_keep_size} bytes"
            raise SlotInvalidated(
                f"replication slot {self.config.slot_name!r} was invalidated by PostgreSQL while its snapshot "
                f"was read and built: the server wrote {lag.bytes_behind} bytes of WAL since the snapshot's "
                f"consistent point (the application's writes, and the sinks' when the read tables are on this "
                f"server), past max_slot_wal_keep_size ({keep}), so the changes after the snapshot are lost. "
                "Raise max_slot_wal_keep_size (or set it to -1) for the rebuild, or keep the read tables on "
                "another server, then start again: a new snapshot is required."
            )

    def _start_replication(self) -> None:
        cursor, _ = self._streaming()
        try:
            cursor.start_replication(
                slot_name=self.config.slot_name,
                decode=False,
                options={"proto_version": "1", "publication_names": self.config.publication},
            )
        except psycopg2.errors.ObjectInUse as exc:
            raise SlotInUse(f"replication slot {self.config.slot_name!r} is already in use: {exc}".strip()) from exc
        except psycopg2.Error as exc:
            raise ReplicationError(f"START_REPLICATION failed: {exc}".strip()) from exc
        self._last_feedback = time.monotonic()
        log.info("streaming", extra={"slot": self.config.slot_name})

    def _confirm(self, force: bool = False) -> None:
        cursor = self._cursor
        if cursor is None:
            return
        durable = self._consumer.durable_lsn()
        now = time.monotonic()
        if durable is not None and durable > self._confirmed:
            self._confirmed = durable
            self._confirmed_at = now
            cursor.send_feedback(write_lsn=durable, flush_lsn=durable, force=True)  # type: ignore[no-untyped-call]
            self._last_feedback = now
            log.debug("confirmed", extra={"lsn": format_lsn(durable)})
        elif force or now - self._last_feedback >= self.config.status_interval:
            cursor.send_feedback(force=True)  # type: ignore[no-untyped-call]
            self._last_feedback = now
