"""Archiving from the embedded connector: a replication slot of the archive's own.

The first run creates the slot and takes the connector's initial snapshot (op ``r``
rows, so the archive alone can rebuild the read model); later runs continue from the
slot. The consumer reports a commit LSN durable only after the parts holding its
transaction were renamed into place and the manifest naming it was replaced, so the
slot is confirmed no further than the archive really holds: an interrupted run is
resumed by running it again, with no gap and at most repeated events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, pending_changes
from contracts.captured import CAPTURED_TABLES
from contracts.envelope import InvalidChangeEvent, parse_change_event
from rustok.postgres import current_wal_lsn

from .errors import ArchiveGap, ArchiveLayoutError
from .parts import ArchiveDirectory
from .rows import flatten

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedArchiveOptions:
    """Parameters:
    database_url: the write model's PostgreSQL.
    directory: the archive directory.
    slot_name: the replication slot the archive owns (not the pipeline's).
    topic_prefix: Debezium's topic prefix.
    follow: keep archiving until stopped instead of stopping once caught up.
    part_events: flush a part set at this many buffered events.
    flush_interval: seconds buffered events may wait before a flush while following.
    poll_timeout: seconds one poll of the slot waits for data.
    snapshot_batch_size: snapshot rows handed over at a time.
    """

    database_url: str
    directory: Path
    slot_name: str = "rustok_archive"
    topic_prefix: str = "rustok"
    follow: bool = False
    part_events: int = 50_000
    flush_interval: float = 5.0
    poll_timeout: float = 0.1
    snapshot_batch_size: int = 2000


@dataclass(frozen=True)
class ArchiveRunReport:
    events: int
    per_table: dict[str, int]
    parts: int
    skipped: int
    duration_s: float
    durable_lsn: int | None


class ArchiveConsumer:
    """The connector's consumer: buffers change events, writes them as parts."""

    def __init__(self, directory: ArchiveDirectory, topic_prefix: str,
                 on_events: Callable[[int], None] | None = None, part_events: int = 50_000) -> None:
        self._directory = directory
        self._part_events = part_events
        self._transaction_topic = f"{topic_prefix}.transaction"
        self._prefix = f"{topic_prefix}."
        self._on_events = on_events
        self._rows: list[dict[str, Any]] = []
        self._commit: int | None = None
        self._flushed_at = time.monotonic()
        self.caught_up_lsn = 0
        self.per_table: dict[str, int] = {}
        self.parts = 0
        self.skipped = 0

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        first_seq = self._directory.take_seq(len(batch))
        rows = [row for n, record in enumerate(batch) if (row := self._row(record, first_seq + n)) is not None]
        # Taken only once the whole batch was flattened: a position is never ahead of its rows.
        self._rows.extend(rows)
        commits = [record.commit_lsn for record in batch if record.commit_lsn is not None]
        if commits:
            self._commit = max(self._commit or 0, *commits)
        if self._on_events is not None:
            self._on_events(len(rows))
        if len(self._rows) >= self._part_events:
            # Also in the middle of a snapshot, so memory stays bounded; such parts complete
            # no position, and a snapshot that never completes is discarded on the next run.
            self.flush()

    def durable_lsn(self) -> int | None:
        return self._directory.manifest.durable_lsn

    def caught_up(self, lsn: int) -> None:
        self.caught_up_lsn = lsn

    def due(self, interval: float) -> bool:
        """Buffered events have waited ``interval`` seconds (while following a quiet stream)."""
        return bool(self._rows) and time.monotonic() - self._flushed_at >= interval

    def flush(self) -> None:
        """Write the buffered events as parts, then record the position they complete."""
        rows, self._rows = self._rows, []
        self._flushed_at = time.monotonic()
        manifest = self._directory.manifest
        written = self._directory.write_rows(rows)
        if self._commit is not None and self._commit > (manifest.durable_lsn or 0):
            manifest.durable_lsn = self._commit
        self._directory.commit()
        self.parts += len(written)
        for row in rows:
            self.per_table[row["table"]] = self.per_table.get(row["table"], 0) + 1
        if written:
            log.info("archive parts written", extra={"parts": len(written), "events": len(rows),
                                                     "lsn": manifest.durable_lsn})

    def _row(self, record: ChangeRecord, seq: int) -> dict[str, Any] | None:
        if record.value is None or record.topic == self._transaction_topic or not record.topic.startswith(self._prefix):
            return None  # tombstones, transaction markers and heartbeats are not changes
        try:
            event = parse_change_event(record.value)
        except InvalidChangeEvent as exc:
            self.skipped += 1
            log.warning("record is not a change event; not archived", extra={"topic": record.topic,
                                                                              "lsn": record.lsn, "reason": str(exc)})
            return None
        return flatten(event, record.key, seq)


def archive_embedded(options: EmbeddedArchiveOptions, on_events: Callable[[int], None] | None = None,
                     stop: threading.Event | None = None) -> ArchiveRunReport:
    """Archive from the slot until caught up with the WAL at start (or until ``stop``
    is set, with ``follow``). Parts are durable and the slot confirmed when it returns."""
    started = time.monotonic()
    directory = ArchiveDirectory(options.directory)
    _check_source(directory, options)
    consumer = ArchiveConsumer(directory, options.topic_prefix, on_events, options.part_events)
    connector = EmbeddedConnector(
        ConnectorConfig(dsn=options.database_url, slot_name=options.slot_name, topic_prefix=options.topic_prefix,
                        snapshot_batch_size=options.snapshot_batch_size),
        consumer)
    stop = stop or threading.Event()
    try:
        connector.start()
        consumer.flush()  # the snapshot is complete: make it durable before streaming
        target = current_wal_lsn(options.database_url)
        while not stop.is_set():
            connector.poll(options.poll_timeout)
            if consumer.due(options.flush_interval):
                consumer.flush()
            if not options.follow and consumer.caught_up_lsn >= target:
                break
        consumer.flush()
    finally:
        # After a failure the buffered events are not written: the slot was not confirmed
        # past them, so the next run receives them again.
        connector.close()
    return ArchiveRunReport(sum(consumer.per_table.values()), dict(sorted(consumer.per_table.items())),
                            consumer.parts, consumer.skipped, time.monotonic() - started,
                            directory.manifest.durable_lsn)


def expected_events(database_url: str, slot_name: str) -> int | None:
    """About how many change events a run will archive, for the progress bar's ETA: the
    changes the slot holds, or, for a first run (no slot yet), the snapshot's rows (the
    captured tables' row estimates). None if neither can be told."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot_name,)).fetchone():
            pending = pending_changes(conn, slot_name)
            return None if pending is None else len(pending)
        row = conn.execute(
            "SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relname = ANY(%s)", (list(CAPTURED_TABLES),)).fetchone()
    return None if row is None or row[0] is None else int(str(row[0]))


def _check_source(directory: ArchiveDirectory, options: EmbeddedArchiveOptions) -> None:
    manifest = directory.manifest
    if manifest.source not in (None, "embedded"):
        raise ArchiveLayoutError(f"{options.directory} archives the {manifest.source} source, not the embedded one")
    if manifest.slot not in (None, options.slot_name):
        raise ArchiveLayoutError(f"{options.directory} continues slot {manifest.slot!r}, not {options.slot_name!r}")
    manifest.source, manifest.slot = "embedded", options.slot_name
    directory.discard_incomplete_snapshot()
    if manifest.durable_lsn is not None and not _slot_exists(options.database_url, options.slot_name):
        raise ArchiveGap(
            f"replication slot {options.slot_name!r} is gone, so the changes after the archive's last position "
            f"cannot be read any more; archive into a new directory (a fresh snapshot) instead")


def _slot_exists(database_url: str, slot_name: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot_name,)).fetchone()
    return row is not None


