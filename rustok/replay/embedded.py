"""Replay from the embedded source: a fresh snapshot into a new index version, then the switch.

Steps (the manifest's phase records how far a replay got, so a re-run resumes):

1. ``building``: the replay's own slot (``rustok_replay_<id>``) snapshots the database
   into its own state (``<state_dir>/replays/<id>/``) and writes version live+1 of the
   chosen document types (JSONB tables and Tantivy, beside the live version), then
   streams until its applied position reaches the live pipeline's checkpoint.
   An interrupted snapshot starts again (its partial version is cleared first); an
   interrupted stream resumes from the state's committed position.
   It then closes its sinks and switches the aliases of all chosen doc types in one
   transaction, recording (``rustok_index_builds``) the position R the new versions
   were built through.
2. ``switched``: the live pipeline (when it runs) follows the alias: it writes into the
   new version what it emitted for commits above R (it wrote those only to the old one
   while the replay finished) and records its move (``rustok_pipeline_targets``); the
   replay waits for that record, since the live pipeline holds the old version open
   until then.
3. ``cleanup``: the slot and the replay's checkpoint go; after a grace period (search
   API readers reload) the old versions' rows and Tantivy directories are deleted.

A tenant-scoped replay writes only that tenant's documents; the other tenants' rows
and documents are copied from the live version just before the switch (the rows once
more inside the switch's transaction). R is then at most the live position at that
copy, so the live pipeline's rewrite covers what it wrote for other tenants after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import psycopg
from prometheus_client import CollectorRegistry

from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector
from contracts.ids import parse_id
from pipelines.model import DocType, RootDocuments
from pipelines.runtime.checkpoints import PostgresCheckpoints
from pipelines.runtime.dead_letters import PostgresDeadLetters
from pipelines.runtime.embedded import EmbeddedRunner, RunnerConfig
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.runtime.projection import CoreProjection
from pipelines.runtime.targets import built_through, load_targets
from pipelines.sinks.base import Sink
from pipelines.sinks.postgres import PostgresSink, live_version
from pipelines.sinks.tantivy_sink import TantivySink
from pipelines.state.sqlite import SqliteStateStore

from . import manifest as manifests
from .errors import HandoverTimeout, ReplayConfigError, ReplayInterrupted
from .manifest import Manifest
from .progress import ReplayProgress, SilentProgress
from .tenant import TenantScopedSink, copy_other_tenants_tantivy
from .versions import clear_versions, copy_other_tenants, drop_versions, switch_aliases

log = logging.getLogger(__name__)

DOC_TYPES: tuple[DocType, ...] = ("product", "content")
STATE_FILE = "state.sqlite"


@dataclass(frozen=True)
class ReplayOptions:
    """Parameters:
    database_url: the write model's PostgreSQL (read tables live there too).
    state_dir: the live pipeline's state dir: its ``index/`` holds the Tantivy versions,
        ``replays/<id>/`` the replay's own state and manifest.
    doc_types: the document types rebuilt (the others keep their version).
    tenant: rebuild only this tenant (UUID); None rebuilds all.
    live_pipeline / live_slot: the pipeline whose checkpoint the replay catches up with
        and whose move to the new version it waits for (when its slot is active).
    grace_seconds: wait before deleting the old version (search API readers reload).
    handover_timeout: seconds the live pipeline may take to follow the switch.
    """

    database_url: str
    state_dir: Path
    doc_types: tuple[DocType, ...] = DOC_TYPES
    tenant: str | None = None
    topic_prefix: str = "rustok"
    live_pipeline: str = "embedded"
    live_slot: str = "rustok_embedded"
    snapshot_batch_size: int = 2000
    grace_seconds: float = 2.0
    handover_timeout: float = 120.0
    poll_timeout: float = 0.05

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"


@dataclass
class ReplayReport:
    replay_id: str
    resumed: bool
    doc_types: tuple[DocType, ...]
    tenant: str | None
    versions: dict[str, list[int]] = field(default_factory=dict)  # doc type → [old, new]
    events_read: int = 0
    documents_written: int = 0
    dead_letters: int = 0
    duration_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class EmbeddedReplay:
    """Parameters:
    options: what to rebuild and where.
    progress: where progress goes (rich bars in the CLI).
    stop: set it to interrupt; ``run`` raises ReplayInterrupted and a re-run resumes.
    """

    def __init__(self, options: ReplayOptions, progress: ReplayProgress | None = None,
                 stop: threading.Event | None = None) -> None:
        self.options = _checked(options)
        self.progress = progress or SilentProgress()
        self.stop = stop or threading.Event()
        self._events = 0
        self._documents = 0
        self._snapshotting = False
        self._tantivy: dict[DocType, TantivySink] = {}
        self._warnings: list[str] = []

    def run(self) -> ReplayReport:
        started = time.monotonic()
        manifest, resumed = self._manifest()
        directory = manifests.replays_dir(self.options.state_dir) / manifest.replay_id
        log.info("replay %s", "resumed" if resumed else "started",
                 extra={"replay": manifest.replay_id, "phase": manifest.phase, "versions": manifest.versions})
        try:
            if manifest.phase == "building":
                manifest = self._stream(manifest, directory)
            if manifest.phase == "switched":
                self._handover(manifest)
                manifest = self._saved(directory, manifest.moved_to("cleanup"))
            if manifest.phase == "cleanup":
                manifest = self._cleanup(manifest, directory)
        finally:
            self.progress.close()
        return ReplayReport(
            manifest.replay_id, resumed, manifest.doc_types, manifest.tenant,
            {dt: [manifest.previous[dt], v] for dt, v in manifest.versions.items()},
            self._events, self._documents, self._dead_letters(manifest), round(time.monotonic() - started, 3),
            self._warnings,
        )

    # -- phases --------------------------------------------------------------------------

    def _manifest(self) -> tuple[Manifest, bool]:
        options = self.options
        pending = manifests.unfinished(options.state_dir)
        for found in pending:
            if found.same_scope(options.doc_types, options.tenant):
                return found, True
        if pending:
            other = pending[0]
            raise ReplayConfigError(
                f"replay {other.replay_id} of {list(other.doc_types)} (tenant {other.tenant}) is unfinished;"
                " run it again with that scope to finish it first")
        previous = {dt: live_version(options.database_url, dt) for dt in options.doc_types}
        manifest = Manifest(manifests.new_replay_id(), options.doc_types, options.tenant,
                            {dt: v + 1 for dt, v in previous.items()}, previous=previous)
        manifests.save(manifests.replays_dir(options.state_dir) / manifest.replay_id, manifest)
        return manifest, False

    def _stream(self, manifest: Manifest, directory: Path) -> Manifest:
        """Build the new versions through the live pipeline's position, then switch to them."""
        options = self.options
        if self._switched(manifest):  # the switch committed, the manifest did not record it
            return self._saved(directory, manifest.moved_to("switched"))
        state = directory / STATE_FILE
        projection = CoreProjection(lambda: SqliteStateStore(state), lambda: _wipe(state))
        if projection.position() is None:
            clear_versions(options.database_url, options.index_dir, manifest.versions)
        runner = self._runner(manifest, projection)
        connector = EmbeddedConnector(
            ConnectorConfig(dsn=options.database_url, slot_name=manifest.slot_name, topic_prefix=options.topic_prefix,
                            snapshot_batch_size=options.snapshot_batch_size),
            _Counting(runner, self),
        )
        failed = True
        try:
            if projection.position() is None:
                self.progress.step("snapshot", self._snapshot_rows())
                self._snapshotting = True
            connector.start()
            runner.flush()
            self._snapshotting = False
            self._catch_up(connector, runner)
            built = runner.applied_lsn
            if manifest.tenant is not None:
                built = min(built, self._live_position())  # what the copy of the other tenants holds at least
                self._sync_other_tenants(manifest, runner)
            failed = False
        finally:
            _close(runner, connector, quiet=failed)
        switch_aliases(options.database_url, manifest.versions, built, manifest.pipeline, manifest.tenant)
        return self._saved(directory, manifest.moved_to("switched"))

    def _saved(self, directory: Path, manifest: Manifest) -> Manifest:
        manifests.save(directory, manifest)
        return manifest

    def _switched(self, manifest: Manifest) -> bool:
        return all(live_version(self.options.database_url, dt) == v for dt, v in manifest.versions.items())

    def _runner(self, manifest: Manifest, projection: CoreProjection) -> EmbeddedRunner:
        options = self.options
        sinks: list[Sink] = []
        for doc_type, version in manifest.versions.items():
            sinks.append(PostgresSink(options.database_url, (doc_type,), version))
            self._tantivy[doc_type] = TantivySink(options.index_dir, (doc_type,), version)
            sinks.append(self._tantivy[doc_type])
        if manifest.tenant is not None:
            sinks = [TenantScopedSink(sink, manifest.tenant) for sink in sinks]
        for sink in sinks:
            sink.setup()
        runner = EmbeddedRunner(
            RunnerConfig(pipeline=manifest.pipeline, topic_prefix=options.topic_prefix),
            projection, sinks, PostgresDeadLetters(options.database_url),
            PostgresCheckpoints(options.database_url, manifest.pipeline),
            PipelineMetrics(manifest.pipeline, CollectorRegistry()),
        )
        runner.on_visible(self._written)
        return runner

    def _catch_up(self, connector: EmbeddedConnector, runner: EmbeddedRunner) -> None:
        """Stream until the replay has applied what the live pipeline has (or the WAL end)."""
        start = runner.applied_lsn
        target = self._live_position()
        self.progress.step("catch-up", max(target - start, 0))
        looked = time.monotonic()
        while runner.applied_lsn < target:
            self._poll(connector, runner)
            if time.monotonic() - looked >= 0.2:
                looked = time.monotonic()
                target = self._live_position()
                self.progress.update(max(runner.applied_lsn - start, 0), max(target - start, 0))

    def _handover(self, manifest: Manifest) -> None:
        """Wait until the live pipeline writes the new versions (it then no longer holds the old ones)."""
        if not self._live_running():
            self._check_missed_switch(manifest)
            return
        self.progress.step("handover")
        deadline = time.monotonic() + self.options.handover_timeout
        while not self._live_moved(manifest):
            if not self._live_running():  # stopped meanwhile: it reads the aliases when it starts again
                self._check_missed_switch(manifest)
                return
            if self.stop.is_set():
                raise ReplayInterrupted("replay interrupted after the switch; run it again to finish")
            if time.monotonic() > deadline:
                raise HandoverTimeout(f"pipeline {self.options.live_pipeline!r} did not move to"
                                      f" {manifest.versions} within {self.options.handover_timeout} s")
            time.sleep(0.2)

    def _cleanup(self, manifest: Manifest, directory: Path) -> Manifest:
        options = self.options
        self.progress.step("cleanup")
        with psycopg.connect(options.database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                         " WHERE slot_name = %s AND NOT active", (manifest.slot_name,))
            conn.execute("DELETE FROM pipeline_checkpoints WHERE pipeline = %s", (manifest.pipeline,))
        time.sleep(options.grace_seconds)  # the search API reloads its aliases and readers meanwhile
        drop_versions(options.database_url, options.index_dir,
                      {dt: v for dt, v in manifest.previous.items() if v != manifest.versions[dt]})
        for suffix in ("", "-wal", "-shm"):
            Path(f"{directory / STATE_FILE}{suffix}").unlink(missing_ok=True)
        manifest = manifest.moved_to("done")
        manifests.save(directory, manifest)
        return manifest

    # -- helpers -------------------------------------------------------------------------

    def _poll(self, connector: EmbeddedConnector, runner: EmbeddedRunner) -> None:
        if self.stop.is_set():
            raise ReplayInterrupted("replay interrupted; run it again to resume")
        connector.poll(self.options.poll_timeout)
        runner.tick()

    def _sync_other_tenants(self, manifest: Manifest, runner: EmbeddedRunner) -> None:
        """Copy the other tenants from the live versions into the new ones (rows, then Tantivy)."""
        assert manifest.tenant is not None
        runner.flush()
        self._copy_from_live(manifest, manifest.tenant)

    def _copy_from_live(self, manifest: Manifest, except_tenant: str) -> None:
        """Copy every tenant but ``except_tenant`` from the live versions into the new ones:
        the rows in one transaction, then the Tantivy documents."""
        url = self.options.database_url
        with psycopg.connect(url) as conn, conn.transaction():
            for doc_type, version in manifest.versions.items():
                copy_other_tenants(conn, doc_type, manifest.previous[doc_type], version, except_tenant)
        for doc_type, version in manifest.versions.items():
            copy_other_tenants_tantivy(self._tantivy[doc_type], url, doc_type, version, except_tenant)

    def _live_running(self) -> bool:
        with psycopg.connect(self.options.database_url) as conn:
            row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                               (self.options.live_slot,)).fetchone()
        return bool(row and row[0])

    def _check_missed_switch(self, manifest: Manifest) -> None:
        """A live pipeline that stopped after the switch but before following it wrote
        commits above the build position to the old version only: say so (a new replay repairs it)."""
        url = self.options.database_url
        targets = load_targets(url, self.options.live_pipeline)
        built = built_through(url, manifest.versions)
        behind = [dt for dt, v in manifest.versions.items()
                  if (t := targets.get(dt)) is not None and t.index_version != v]
        applied = _checkpoint(url, self.options.live_pipeline)
        if behind and built and applied is not None and applied > min(built.values()):
            warning = (f"pipeline {self.options.live_pipeline!r} stopped after the switch before following it; "
                       f"its commits after {min(built.values())} are only in the old version: replay again")
            log.warning(warning, extra={"doc_types": behind})
            self._warnings.append(warning)

    def _live_moved(self, manifest: Manifest) -> bool:
        targets = load_targets(self.options.database_url, self.options.live_pipeline)
        return all((t := targets.get(dt)) is not None and t.index_version == v for dt, v in manifest.versions.items())

    def _live_position(self) -> int:
        """The live pipeline's checkpoint when it exists, else the server's current WAL position."""
        with psycopg.connect(self.options.database_url) as conn:
            row = conn.execute(
                "SELECT coalesce((SELECT applied_commit_lsn FROM pipeline_checkpoints WHERE pipeline = %s),"
                " pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", (self.options.live_pipeline,)).fetchone()
        return int(str(row[0])) if row else 0

    def _snapshot_rows(self) -> int:
        with psycopg.connect(self.options.database_url) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_publication_tables t"
                " JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass"
                " WHERE t.pubname = 'rustok_cdc'").fetchone()
        return int(str(row[0])) if row else 0

    def _dead_letters(self, manifest: Manifest) -> int:
        with psycopg.connect(self.options.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM dead_letters WHERE pipeline = %s",
                               (manifest.pipeline,)).fetchone()
        return int(str(row[0])) if row else 0

    def _read(self, records: int) -> None:
        self._events += records
        if self._snapshotting:
            self.progress.update(self._events)

    def _written(self, documents: list[RootDocuments]) -> None:
        self._documents += sum(len(d.documents) for d in documents)


class _Counting:
    """The connector's consumer: counts what is read, checks for a stop, hands over to the runner."""

    def __init__(self, runner: EmbeddedRunner, replay: EmbeddedReplay) -> None:
        self._runner = runner
        self._replay = replay

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        if self._replay.stop.is_set():
            raise ReplayInterrupted("replay interrupted; run it again to resume")
        self._runner.deliver(batch)
        self._replay._read(len(batch))

    def durable_lsn(self) -> int | None:
        return self._runner.durable_lsn()

    def caught_up(self, lsn: int) -> None:
        self._runner.caught_up(lsn)


def _checked(options: ReplayOptions) -> ReplayOptions:
    unknown = sorted(set(options.doc_types) - set(DOC_TYPES))
    if unknown or not options.doc_types:
        raise ReplayConfigError(f"doc types must be a non-empty subset of {list(DOC_TYPES)}, got {unknown}")
    if options.tenant is None:
        return options
    try:
        tenant = str(parse_id(options.tenant))
    except ValueError as exc:
        raise ReplayConfigError(f"tenant must be a UUID or ULID: {options.tenant!r}") from exc
    with psycopg.connect(options.database_url) as conn:
        if conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant,)).fetchone() is None:
            raise ReplayConfigError(f"no tenant {tenant}")
    return replace(options, tenant=tenant)


def _close(runner: EmbeddedRunner, connector: EmbeddedConnector, quiet: bool) -> None:
    """Flush and close; after a failure, a second failure here is logged, not raised over the first."""
    try:
        runner.close()
    except Exception:
        if not quiet:
            raise
        log.warning("closing the replay's runner failed", exc_info=True)
    finally:
        connector.close()


def _checkpoint(database_url: str, pipeline: str) -> int | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT applied_commit_lsn FROM pipeline_checkpoints WHERE pipeline = %s",
                           (pipeline,)).fetchone()
    return None if row is None else int(str(row[0]))


def _wipe(state: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)


__all__ = ["EmbeddedReplay", "ReplayOptions", "ReplayReport"]
