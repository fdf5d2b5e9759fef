"""The embedded pipeline, wired: connector → runner → projection core → sinks.

``EmbeddedPipeline`` owns one replication slot, one state store and the sinks (JSONB
read tables and Tantivy, plus Meilisearch when configured). ``start()`` resumes from
the state store's committed position, or, when it has none, takes a fresh snapshot;
if the read model already holds documents, that snapshot is built into a new index
version beside the live one and the aliases switch when it is complete, so
storefronts never see a half-built index. ``stop()`` flushes, commits and confirms
the position to the server.

Follow the alias: ``rustok replay`` builds a version beside the live one, through
source position R, and switches the alias. At most every ``alias_check_interval``
seconds the loop reads the aliases; when a document type's live version moved away
from the one it writes, it closes the old sinks, opens the new version, writes into it
what it emitted for commits above R (the runner remembers recent emissions: commits it
wrote only to the old version while the replay finished), and from then on writes the
new version; it records the move in ``rustok_pipeline_targets``, which the replay waits
for before it deletes the old version.

Threads: ``start()`` runs the snapshot (if any) in the caller's thread, then polls the
slot in a background thread; ``stop()`` joins it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from prometheus_client import CollectorRegistry

from connectors.embedded import ConnectorConfig, EmbeddedConnector
from pipelines.model import DocType
from pipelines.runtime.checkpoints import PostgresCheckpoints
from pipelines.runtime.dead_letters import PostgresDeadLetters
from pipelines.runtime.embedded import EMIT_ROOTS, EmbeddedRunner, RunnerConfig
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.runtime.projection import CoreProjection
from pipelines.runtime.targets import built_through, read_aliases, record_targets
from pipelines.sinks.base import Sink
from pipelines.sinks.errors import SinkBackpressure
from pipelines.sinks.postgres import PostgresSink, drop_index_version, live_version, switch_alias
from pipelines.sinks.tantivy_sink import TantivySink
from pipelines.state.sqlite import DEFAULT_MEMORY_ROWS, SqliteStateStore

log = logging.getLogger(__name__)

DOC_TYPES: tuple[DocType, ...] = ("product", "content")


@dataclass(frozen=True)
class PipelineOptions:
    """Parameters:
    database_url: the write model's PostgreSQL (read tables live there too).
    state_dir: holds ``state.sqlite`` (projection state) and ``index/`` (Tantivy).
    pipeline: name in checkpoints, dead letters and metrics.
    slot_name: the replication slot this pipeline owns.
    topic_prefix: Debezium's topic prefix.
    linger: seconds a transaction may wait for others before a flush.
    max_batch_events: flush at this many buffered records.
    poll_timeout: seconds one poll of the slot waits for data.
    alias_check_interval: seconds between looks at the aliases (to follow a replay's switch).
    retarget_timeout: seconds to wait for a new version's Tantivy writer lock after a switch.
    state_memory_rows: keep the projection state whole in memory up to this many rows (~1.7 KB
        each); past it, the state store serves reads from its file through a bounded cache.
    emit_roots: roots built and written to the sinks at a time at a snapshot's end.
    slot_watch_interval: while a snapshot runs, seconds between looks at the slot's WAL headroom
        (``ConnectorConfig.slot_watch_interval``).
    """

    database_url: str
    state_dir: Path
    pipeline: str = "embedded"
    slot_name: str = "rustok_embedded"
    topic_prefix: str = "rustok"
    linger: float = 0.05
    max_batch_events: int = 5000
    poll_timeout: float = 0.02
    alias_check_interval: float = 0.5
    retarget_timeout: float = 120.0
    state_memory_rows: int = DEFAULT_MEMORY_ROWS
    emit_roots: int = EMIT_ROOTS
    slot_watch_interval: float = ConnectorConfig.slot_watch_interval

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"


class EmbeddedPipeline:
    def __init__(self, options: PipelineOptions, registry: CollectorRegistry | None = None,
                 extra_sinks: Sequence[Sink] = ()) -> None:
        self.options = options
        self.metrics = PipelineMetrics(options.pipeline, registry)
        self._extra_sinks = list(extra_sinks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.runner: EmbeddedRunner | None = None
        self.connector: EmbeddedConnector | None = None
        self.index_versions: dict[DocType, int] = {}
        self._own_sinks: dict[DocType, list[Sink]] = {}
        self._alias_conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._alias_checked = 0.0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start, or start again after ``stop`` (resuming from the last durable position)."""
        options = self.options
        options.state_dir.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._error, self._alias_conn = None, None
        projection = CoreProjection(lambda: SqliteStateStore(options.state_file, options.state_memory_rows),
                                    self._wipe_state)
        fresh = projection.position() is None
        self.index_versions = self._target_versions(fresh)
        sinks = self._sinks()
        for sink in sinks:
            sink.setup()
        self.runner = EmbeddedRunner(
            RunnerConfig(pipeline=options.pipeline, topic_prefix=options.topic_prefix, linger=options.linger,
                         max_batch_events=options.max_batch_events, emit_roots=options.emit_roots),
            projection, sinks, PostgresDeadLetters(options.database_url),
            PostgresCheckpoints(options.database_url, options.pipeline), self.metrics,
        )
        self.connector = EmbeddedConnector(
            ConnectorConfig(dsn=options.database_url, slot_name=options.slot_name, topic_prefix=options.topic_prefix,
                            slot_watch_interval=options.slot_watch_interval),
            self.runner,
        )
        self.connector.start()
        self.runner.flush()  # the snapshot's tail, so the switch below sees a complete version
        if fresh:
            self._switch_if_rebuilt()
        record_targets(options.database_url, options.pipeline, self.index_versions, self.runner.applied_lsn)
        self._thread = threading.Thread(target=self._loop, name=f"pipeline-{options.pipeline}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            if self.runner is not None:
                self.runner.close()
        finally:
            if self.connector is not None:
                self.connector.close()
            if self._alias_conn is not None:
                self._alias_conn.close()
        if self._error is not None:
            raise RuntimeError(f"pipeline {self.options.pipeline!r} stopped on an error") from self._error

    def __enter__(self) -> EmbeddedPipeline:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def failed(self) -> BaseException | None:
        return self._error

    # -- internals -----------------------------------------------------------------------

    def _loop(self) -> None:
        assert self.connector is not None and self.runner is not None
        try:
            while not self._stop.is_set():
                self.connector.poll(self.options.poll_timeout)
                self.runner.tick()
                self._follow_alias()
        except BaseException as exc:  # the owner learns of it through ``failed`` and ``stop``
            log.exception("pipeline loop failed", extra={"pipeline": self.options.pipeline})
            self._error = exc

    def _sinks(self) -> list[Sink]:
        self._own_sinks = {doc_type: self._sinks_of(doc_type, version)
                           for doc_type, version in self.index_versions.items()}
        return [sink for sinks in self._own_sinks.values() for sink in sinks] + self._extra_sinks

    def _sinks_of(self, doc_type: DocType, version: int) -> list[Sink]:
        return [PostgresSink(self.options.database_url, (doc_type,), version),
                TantivySink(self.options.index_dir, (doc_type,), version)]

    def _follow_alias(self) -> None:
        now = time.monotonic()
        if now - self._alias_checked < self.options.alias_check_interval:
            return
        self._alias_checked = now
        if self._alias_conn is None or self._alias_conn.closed:
            self._alias_conn = psycopg.connect(self.options.database_url, autocommit=True)
        aliases = read_aliases(self._alias_conn)
        moved = {doc_type: version for doc_type, version in aliases.items()
                 if doc_type in self.index_versions and version != self.index_versions[doc_type]}
        if moved:
            self._retarget(moved)

    def _retarget(self, moved: dict[DocType, int]) -> None:
        """Write ``moved`` versions from now on (see the module docstring)."""
        runner = self.runner
        assert runner is not None
        url = self.options.database_url
        built = built_through(url, moved)
        added = {doc_type: self._sinks_of(doc_type, version) for doc_type, version in moved.items()}
        new_sinks = [sink for sinks in added.values() for sink in sinks]
        # The old sinks close first: once this pipeline records its move, the replay deletes their directories.
        runner.replace_sinks([sink for doc_type in moved for sink in self._own_sinks[doc_type]], [])
        self._set_up(new_sinks)
        if len(built) == len(moved):
            through = min(built.values())
            if not runner.rewrite_recent(through, new_sinks):
                log.error("emissions after the new version's build position were already forgotten: the new"
                          " version may miss changes until their roots change again; replay again",
                          extra={"versions": moved, "lsn": through})
        runner.replace_sinks([], new_sinks)
        self._own_sinks.update(added)
        self.index_versions.update(moved)
        record_targets(url, self.options.pipeline, moved, runner.applied_lsn)
        log.info("alias moved: sinks retargeted", extra={"versions": moved, "built_through": built,
                                                         "lsn": runner.applied_lsn})

    def _set_up(self, sinks: list[Sink]) -> None:
        """Set every sink up, waiting while another writer (the replay) still holds a lock."""
        deadline = time.monotonic() + self.options.retarget_timeout
        for sink in sinks:
            while True:
                try:
                    sink.setup()
                    break
                except SinkBackpressure as exc:
                    if time.monotonic() > deadline or self._stop.is_set():
                        raise
                    time.sleep(min(exc.retry_after, 0.1))

    def _target_versions(self, fresh: bool) -> dict[DocType, int]:
        """The live versions, or for a fresh build over existing documents, new ones beside them."""
        versions = {doc_type: live_version(self.options.database_url, doc_type) for doc_type in DOC_TYPES}
        if not fresh or not self._has_documents():
            return versions
        targets = {doc_type: live + 1 for doc_type, live in versions.items()}
        for doc_type, version in targets.items():
            drop_index_version(self.options.database_url, doc_type, version)  # an interrupted rebuild's leftovers
            shutil.rmtree(self.options.index_dir / doc_type / f"v{version}", ignore_errors=True)
        log.info("state is empty but the read model is not: rebuilding beside it", extra={"versions": targets})
        return targets

    def _switch_if_rebuilt(self) -> None:
        url = self.options.database_url
        for doc_type, version in self.index_versions.items():
            previous = live_version(url, doc_type)
            if previous == version:
                continue
            switch_alias(url, doc_type, version)
            drop_index_version(url, doc_type, previous)
            shutil.rmtree(self.options.index_dir / doc_type / f"v{previous}", ignore_errors=True)

    def _has_documents(self) -> bool:
        with psycopg.connect(self.options.database_url) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM index_products) OR EXISTS (SELECT 1 FROM index_content)"
            ).fetchone()
        return bool(row and row[0])

    def _wipe_state(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.options.state_file}{suffix}").unlink(missing_ok=True)
