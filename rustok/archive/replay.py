"""Time-travel rebuilds: the read model as it was at a moment, from the archive alone.

The archive's rows up to ``until`` (snapshot reads always: they are the base every
later change applies to) are read in source order (see ``reader``), turned back into
change events and absorbed by the projection core
(its own in-memory state); every root they touched is then built once and written
to the JSONB read tables and Tantivy in a NEW index version. The live version is not
touched; ``switch=True`` moves the alias once everything is written.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent, InvalidChangeEvent
from contracts.ids import InvalidId, parse_id
from pipelines.model import DocType, RootDocuments
from pipelines.runtime.dead_letters import DeadLetter, PostgresDeadLetters
from pipelines.runtime.decode import dead_letter, record_of
from pipelines.runtime.projection import CoreProjection, Rejected
from pipelines.sinks.base import Sink
from pipelines.sinks.postgres import PostgresSink, drop_index_version, live_version, switch_alias
from pipelines.sinks.tantivy_sink import TantivySink, index_path
from pipelines.state.memory import InMemoryStateStore

from .errors import ArchiveLayoutError, ArchiveReplayError
from .parts import read_manifest
from .progress import total_bar
from .reader import ArchiveReader
from .rows import envelope_of, event_of

log = logging.getLogger(__name__)

PIPELINE = "archive-replay"
CHUNK = 5000
_TABLES: dict[DocType, str] = {"product": "index_products", "content": "index_content"}

Progress = Callable[[int, int], None]
"""Called with (events read so far, events expected) as the rebuild goes."""


@dataclass(frozen=True)
class ArchiveReplayReport:
    events_read: int
    documents_written: int
    dead_letters: int
    duration_s: float
    versions: dict[DocType, int]


def replay_archive(database_url: str, archive_dir: Path, until: datetime | None, index_dir: Path, *,
                   doc_types: Sequence[DocType] = ("product", "content"), tenant: str | None = None,
                   switch: bool = False, progress: Progress | None = None) -> ArchiveReplayReport:
    """Rebuild the read model as of ``until`` (None: everything archived) into new index
    versions. ``tenant`` limits the rebuild to one tenant's data (never switched live).
    A naive ``until`` is taken as UTC. ``progress`` is called with (events read, events
    in the archive); without one, a progress bar is drawn when stderr is a terminal."""
    started = time.monotonic()
    if tenant is not None and switch:
        raise ArchiveReplayError("a rebuild of one tenant cannot become the live version of every tenant")
    tenant_id = _tenant(tenant)
    moment = None if until is None else (until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC))
    manifest = read_manifest(Path(archive_dir))
    if manifest is None:
        raise ArchiveLayoutError(f"{archive_dir} has no archive manifest (run `rustok archive` first)")
    unknown = set(doc_types) - set(_TABLES)
    if unknown or not doc_types:
        raise ArchiveReplayError(f"doc_types must be among {sorted(_TABLES)}, got {list(doc_types)}")
    reader = ArchiveReader(Path(archive_dir), moment, tenant_id)
    _check_base(reader, moment)
    versions = {doc_type: _free_version(database_url, index_dir, doc_type) for doc_type in doc_types}
    sinks = _sinks(database_url, index_dir, versions)
    rebuild = _Rebuild(sinks, PostgresDeadLetters(database_url), tenant_id)
    try:
        with ExitStack() as stack:
            if progress is None and sys.stderr.isatty():
                progress = stack.enter_context(total_bar("replaying the archive"))
            rebuild.run(reader.batches(), manifest.events, progress)
    except BaseException:
        _close(sinks)
        _discard(database_url, index_dir, versions)  # a half-built version is of no use; a rerun starts afresh
        raise
    _close(sinks)
    if switch:
        for doc_type, version in versions.items():
            switch_alias(database_url, doc_type, version)
    report = ArchiveReplayReport(rebuild.events_read, rebuild.documents, rebuild.dead, time.monotonic() - started,
                                 versions)
    log.info("archive replayed", extra={"events": report.events_read, "documents": report.documents_written,
                                        "dlq": report.dead_letters, "versions": versions})
    return report


def _tenant(tenant: str | None) -> str | None:
    if tenant is None:
        return None
    try:
        return str(parse_id(tenant))
    except InvalidId as exc:
        raise ArchiveReplayError(f"tenant {tenant!r} is not a ULID or UUID") from exc


def _check_base(reader: ArchiveReader, until: datetime | None) -> None:
    """Snapshot reads are the base of every rebuild; one taken after ``until`` already
    holds later changes, so the state at ``until`` cannot be told apart."""
    taken = None if until is None else reader.snapshot_taken()
    if until is not None and taken is not None and taken > until:
        raise ArchiveReplayError(f"the archive starts with a snapshot taken at {taken.isoformat()}, after "
                                 f"{until.isoformat()}: it cannot show the read model before that")


def _free_version(database_url: str, index_dir: Path, doc_type: DocType) -> int:
    """The first version above the live one that neither the read table nor Tantivy uses."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT max(index_version) FROM {_TABLES[doc_type]}").fetchone()
    version = max(live_version(database_url, doc_type), int(str(row[0])) if row and row[0] is not None else 0) + 1
    while index_path(index_dir, doc_type, version).exists():
        version += 1
    return version


def _close(sinks: Sequence[Sink]) -> None:
    for sink in sinks:
        sink.close()


def _discard(database_url: str, index_dir: Path, versions: dict[DocType, int]) -> None:
    for doc_type, version in versions.items():
        drop_index_version(database_url, doc_type, version)
        shutil.rmtree(index_path(index_dir, doc_type, version), ignore_errors=True)
    log.warning("interrupted rebuild discarded", extra={"versions": versions})


def _sinks(database_url: str, index_dir: Path, versions: dict[DocType, int]) -> list[Sink]:
    sinks: list[Sink] = []
    for doc_type, version in versions.items():
        sinks.append(PostgresSink(database_url, (doc_type,), version))
        sinks.append(TantivySink(index_dir, (doc_type,), version))
    for sink in sinks:
        sink.setup()
    return sinks


class _Rebuild:
    def __init__(self, sinks: Sequence[Sink], dead_letters: PostgresDeadLetters, tenant: str | None) -> None:
        self._sinks = sinks
        self._dead_letters = dead_letters
        self._tenant = tenant
        self._projection = CoreProjection(InMemoryStateStore, lambda: None)
        self.events_read = 0
        self.documents = 0
        self.dead = 0

    def run(self, batches: Iterator[list[dict[str, Any]]], expected: int, progress: Progress | None) -> None:
        for rows in batches:
            self.events_read += len(rows)
            self._absorb(rows)
            if progress is not None:
                progress(self.events_read, max(expected, self.events_read))
        while self._projection.pending_roots:
            documents, rejected = self._projection.emit(CHUNK)
            self._reject([], rejected)
            self._write(documents)

    def _absorb(self, rows: list[dict[str, Any]]) -> None:
        events: list[ChangeEvent] = []
        sources: list[dict[str, Any]] = []
        letters: list[DeadLetter] = []
        for row in rows:
            if row["table"] == "outbox":
                continue  # outbox rows feed consumers of domain events, not the read model
            try:
                events.append(event_of(row))
                sources.append(row)
            except InvalidChangeEvent as exc:
                letters.append(dead_letter(PIPELINE, "decode", _record(row), exc))
        self._store(letters)
        self._reject(sources, self._projection.absorb(events))
        self._projection.commit(None)

    def _reject(self, sources: list[dict[str, Any]], rejected: list[Rejected]) -> None:
        letters = []
        for bad in rejected:
            if 0 <= bad.index < len(sources):
                record = _record(sources[bad.index])
            else:
                assert bad.event is not None
                record = record_of(bad.event, bad.event.source.name)
            letters.append(dead_letter(PIPELINE, bad.stage, record, bad.error))
        self._store(letters)

    def _store(self, letters: list[DeadLetter]) -> None:
        if letters:
            self._dead_letters.add(letters)
            self.dead += len(letters)

    def _write(self, documents: list[RootDocuments]) -> None:
        if self._tenant is not None:
            documents = [d for d in documents if str(d.root.tenant_id) == self._tenant]
        if not documents:
            return
        # Side by side, as the live runner does: PostgreSQL's I/O overlaps Tantivy's indexing.
        with ThreadPoolExecutor(len(self._sinks), thread_name_prefix="archive-sink") as pool:
            futures = [pool.submit(_flush, sink, documents) for sink in self._sinks]
        errors = [error for future in futures if (error := future.exception()) is not None]
        if errors:
            raise errors[0]
        self.documents += sum(len(d.documents) for d in documents)


def _flush(sink: Sink, documents: list[RootDocuments]) -> None:
    sink.write(documents)
    sink.flush()


def _record(row: dict[str, Any]) -> ChangeRecord:
    """The archived event as a connector record again, for its dead letter."""
    value = envelope_of(row)
    prefix = str((value.get("source") or {}).get("name") or "rustok")
    key = None if row["key"] is None else orjson.loads(row["key"])
    return ChangeRecord(f"{prefix}.{row['schema']}.{row['table']}", key, value, row["lsn"] or 0, None)
