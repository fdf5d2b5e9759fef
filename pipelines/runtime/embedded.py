"""The embedded runner: the connector's consumer, the core's driver, the sinks' checkpointer.

The embedded CDC connector delivers whole transactions in commit order. The runner
buffers them for at most ``linger`` seconds (or ``max_batch_events`` events), then
flushes one micro-batch:

1. decode records into change events (undecodable ones become dead letters);
2. the projection core applies the events to state and builds every touched root
   once (events it rejects become dead letters);
3. dead letters are stored, every sink writes and flushes (side by side; durable, visible);
4. the state store commits with the batch's last commit LSN in it, then the
   PostgreSQL checkpoint (what the search API waits on for ``min_version``);
5. only now is the batch's last commit LSN reported durable, so the connector confirms
   it to the server.

A snapshot's batches complete nothing until its last record (the only one with a
commit LSN), so their events are only applied to state (step 2 without building); the
last batch then builds every root the snapshot touched once, ``emit_roots`` at a time,
each slice written to every sink before steps 4 and 5. Building per batch would build
each root once per table it has rows in. While its roots are built (and, for a state
too large to hold in memory, while the snapshot is read), the state absorbed so far is
saved on a side thread without a position (``save_ahead``), so a crash still starts a new
snapshot; the position is written only after every sink has the snapshot's documents.

The runner remembers the emissions of the last ``recent_seconds`` with their batch's
commit LSN: when a replay switches the alias to a version it built through position R,
the pipeline writes what it emitted for commits above R into the new version
(:meth:`EmbeddedRunner.rewrite_recent`), so nothing it wrote only to the old version
is missing from the new one.

A crash anywhere replays from the last durable LSN. Replayed events are absorbed by
versioned state and version-guarded sinks, and the core re-emits the roots they touch,
so the read model ends equal to a clean rebuild.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent
from pipelines.emission_codec import decode_emission, encode_emission
from pipelines.model import RootDocuments
from pipelines.sinks.base import BulkLoads, Sink, write_and_flush

from .checkpoints import PostgresCheckpoints
from .dead_letters import DeadLetters
from .decode import Decoded, dead_letter, decode_records, record_of
from .metrics import PipelineMetrics
from .projection import Rejected

log = logging.getLogger(__name__)


class Projection(Protocol):
    """The projection core as the runner drives it (see :class:`~.projection.CoreProjection`)."""

    def position(self) -> int | None: ...

    def project(self, events: Sequence[ChangeEvent]) -> tuple[list[RootDocuments], list[Rejected]]: ...

    def absorb(self, events: Sequence[ChangeEvent]) -> list[Rejected]:
        """Apply events whose roots are built later, by :meth:`emit`."""

    @property
    def pending_roots(self) -> int: ...

    def emit(self, max_roots: int) -> tuple[list[RootDocuments], list[Rejected]]: ...

    def save_ahead(self, reading: bool) -> bool:
        """Write the state absorbed so far without a position if it has none yet (may run
        beside :meth:`emit`); returns whether it did. ``reading``: the snapshot is still being
        read (it may then wait for the build)."""

    def commit(self, position: int | None) -> None:
        """Make the state absorbed so far, and ``position`` with it, durable."""

    def reset(self) -> None:
        """Forget all state (a fresh snapshot follows)."""


EMIT_ROOTS = 2000  # RunnerConfig.emit_roots


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """Parameters:
    pipeline: name in checkpoints, dead letters and metrics.
    topic_prefix: the connector's topic prefix.
    linger: seconds a delivered transaction may wait for others before a flush.
    max_batch_events: flush as soon as this many records are buffered.
    emit_roots: roots built and written to the sinks at a time when a snapshot ends, at most (small enough
        that building the next slice overlaps most of the sinks' work on the one before).
    parallel_sinks: flush the sinks side by side (one thread each) instead of one by one.
    idle_checkpoint_interval: seconds between checkpoint writes for idle progress.
    retry_interval: seconds between looks for dead letters queued for a retry.
    recent_seconds: how long emitted documents are remembered for ``rewrite_recent`` (a
        replay's switch is followed within ``alias_check_interval`` plus a flush).
    recent_max_batches: at most this many batches are remembered (bounds memory on a burst).
    tune_gc: after each batch absorbed (a snapshot's, or a large transaction's) move every object
        alive into the GC's permanent generation (``gc.freeze``), so full collections stop
        walking the state, and pause the cyclic GC while the absorbed roots are built (their
        documents live for a slice, long enough to be promoted and walked again and again;
        reference counting frees them). Process-wide: meant for a pipeline's own process.
    """

    pipeline: str = "embedded"
    topic_prefix: str = "rustok"
    linger: float = 0.05
    max_batch_events: int = 5000
    emit_roots: int = EMIT_ROOTS
    parallel_sinks: bool = True
    idle_checkpoint_interval: float = 0.05
    retry_interval: float = 2.0
    recent_seconds: float = 30.0
    recent_max_batches: int = 20_000
    tune_gc: bool = True


class EmbeddedRunner:
    """Implements the connector's ChangeConsumer port."""

    def __init__(
        self,
        config: RunnerConfig,
        projection: Projection,
        sinks: Sequence[Sink],
        dead_letters: DeadLetters,
        checkpoints: PostgresCheckpoints,
        metrics: PipelineMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._projection = projection
        self._sinks = list(sinks)
        self._dead_letters = dead_letters
        self._checkpoints = checkpoints
        self.metrics = metrics or PipelineMetrics(config.pipeline)
        self._clock = clock
        self._lock = threading.RLock()  # the connector's thread and callers such as retries or close
        self._pending: list[ChangeRecord] = []
        self._pending_since: float | None = None
        self._durable = projection.position()
        self._applied = self._durable or 0
        self._idle_saved_at = 0.0
        self._retry_checked_at = 0.0
        self._executor = (ThreadPoolExecutor(len(self._sinks), thread_name_prefix=f"{config.pipeline}-sink")
                          if config.parallel_sinks and len(self._sinks) > 1 else None)
        # Runs a snapshot's sink writes and state saves beside the reading and building.
        self._behind = ThreadPoolExecutor(2, thread_name_prefix=f"{config.pipeline}-behind")
        self._saving: Future[bool] | None = None  # a save ahead while a snapshot is read
        self._visible: list[Callable[[list[RootDocuments]], None]] = []
        self._batch_commit: int | None = None
        # (monotonic time, commit LSN of the batch, its emissions encoded), oldest first. As
        # bytes: live document objects would be walked by every full collection of the
        # cyclic GC (30 s of them at 200 writes/s made pauses of 200-300 ms).
        self._recent: deque[tuple[float, int, list[bytes]]] = deque()
        self._forgotten_through = self._applied  # commits at or below this are no longer remembered
        self._snapshot_check: Callable[[], None] | None = None  # the connector's slot check, while a snapshot runs
        if self._durable is None:
            projection.reset()

    # -- ChangeConsumer ------------------------------------------------------------------

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        with self._lock:
            if not batch:
                return
            if self._pending_since is None:
                # Linger counts from the commit, not from delivery: transactions that queued
                # in the stream while the previous flush ran have waited already.
                self._pending_since = self._clock() - _waited(batch, self.config.linger)
            self._pending.extend(batch)
            # The end of a snapshot builds every absorbed root: do it now, while the
            # connector is still inside its snapshot, not after it started streaming
            # (a long flush there leaves the stream unread past wal_sender_timeout).
            ends_snapshot = self._projection.pending_roots > 0 and batch[-1].commit_lsn is not None
            if ends_snapshot or len(self._pending) >= self.config.max_batch_events:
                self.flush()

    def durable_lsn(self) -> int | None:
        return self._durable

    def watch_snapshot(self, check: Callable[[], None] | None) -> None:
        """The connector's slot check while a snapshot runs: called between the slices its
        end builds, so an invalidated slot stops an hour-long build at once."""
        self._snapshot_check = check

    @property
    def applied_lsn(self) -> int:
        """Every commit at or below this position is in every sink (what the checkpoint says)."""
        return self._applied

    def caught_up(self, lsn: int) -> None:
        """Every commit at or below ``lsn`` was delivered: once flushed, it is applied."""
        with self._lock:
            if self._pending or lsn <= self._applied:
                return
            now = self._clock()
            if now - self._idle_saved_at < self.config.idle_checkpoint_interval:
                return
            self._applied = lsn
            self._idle_saved_at = now
            self._checkpoints.save(lsn, None, 0)
            self.metrics.applied(lsn, lsn)

    # -- driving -------------------------------------------------------------------------

    def tick(self) -> None:
        """Flush if the oldest buffered record has waited ``linger`` seconds; retry queued dead letters."""
        with self._lock:
            now = self._clock()
            if self._pending_since is not None and now - self._pending_since >= self.config.linger:
                self.flush()
            if now - self._retry_checked_at >= self.config.retry_interval:
                self._retry_checked_at = now
                self.retry_queued()

    def retry_queued(self) -> int:
        """Feed dead letters marked ``queued`` through the core again; returns how many now passed.

        A retried event may be older than what state holds; versions make that harmless.
        """
        with self._lock:
            letters = self._dead_letters.list(self.config.pipeline, "queued", limit=1000)
            passed: list[int] = []
            failed: list[int] = []
            documents: list[RootDocuments] = []
            for letter in letters:
                assert letter.id is not None
                record = ChangeRecord(letter.topic, None, orjson.loads(letter.payload), letter.source_lsn or 0, None)
                decoded = decode_records([record], self.config.pipeline, self.config.topic_prefix)
                emitted, rejected = self._projection.project(decoded.events)
                if decoded.dead or rejected or not decoded.events:
                    failed.append(letter.id)
                    continue
                documents.extend(emitted)
                passed.append(letter.id)
            if documents:
                self._write_sinks(documents)
                self._projection.commit(None)
            self._dead_letters.mark(passed, "retried")
            self._dead_letters.mark(failed, "open")
            return len(passed)

    def flush(self) -> None:
        with self._lock:
            records, self._pending, self._pending_since = self._pending, [], None
            if not records:
                return
            with self._stage("decode"):
                decoded = decode_records(records, self.config.pipeline, self.config.topic_prefix)
            commit = max((r.commit_lsn for r in records if r.commit_lsn is not None), default=None)
            self._batch_commit = commit
            if commit is None:
                # The middle of a snapshot: nothing completes here, so nothing has to be
                # visible or durable yet; roots are built once, when the snapshot ends.
                with self._stage("project"):
                    rejected = self._projection.absorb(decoded.events)
                self._store_dead(decoded, rejected)
                if self.config.tune_gc:
                    # A snapshot's state is millions of long-lived objects without cycles: left
                    # to the cyclic GC, each full collection walks all of them again (a fifth of
                    # a rebuild's CPU). Frozen, they are still freed by reference counting.
                    gc.freeze()
                self._save_ahead()
            elif self._projection.pending_roots == 0:
                with self._stage("project"):
                    documents, rejected = self._projection.project(decoded.events)
                self._store_dead(decoded, rejected)
                self._publish(documents)
            else:
                with self._stage("project"):
                    rejected = self._projection.absorb(decoded.events)
                self._store_dead(decoded, rejected)
                self._emit_pending()
            if commit is not None:
                with self._stage("state_commit"):
                    self._projection.commit(commit)
                with self._stage("checkpoint"):
                    self._acknowledge(commit, records, len(decoded.events))
            self.metrics.count("source", len(decoded.events))

    def on_visible(self, listener: Callable[[list[RootDocuments]], None]) -> None:
        """Call ``listener`` with each batch of emissions once every sink has flushed it
        (for freshness probes; it runs on the runner's thread, so it must be quick)."""
        self._visible.append(listener)

    def rewrite_recent(self, after_lsn: int, sinks: Sequence[Sink]) -> bool:
        """Write to ``sinks`` (set up) every remembered emission of a commit above ``after_lsn``
        and flush them. Returns False when emissions of such commits were already forgotten."""
        with self._lock:
            self.flush()
            documents = [decode_emission(d) for _, commit, batch in self._recent if commit > after_lsn for d in batch]
            for sink in sinks:
                sink.write(documents)
                sink.flush()
            return self._forgotten_through <= after_lsn

    def replace_sinks(self, retired: Sequence[Sink], added: Sequence[Sink]) -> None:
        """Swap sinks between batches (to follow the alias to a new index version): what is
        buffered goes to the retired sinks first, which are then closed. ``added`` must be set up."""
        with self._lock:
            self.flush()
            for sink in retired:
                sink.close()
            self._sinks = [s for s in self._sinks if all(s is not r for r in retired)] + list(added)
            if self._executor is not None:
                self._executor.shutdown()
            self._executor = (ThreadPoolExecutor(len(self._sinks), thread_name_prefix=f"{self.config.pipeline}-sink")
                              if self.config.parallel_sinks and len(self._sinks) > 1 else None)

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                if self._executor is not None:
                    self._executor.shutdown()
                    self._executor = None
                self._behind.shutdown()
            for sink in self._sinks:
                sink.close()
            self._checkpoints.close()

    # -- internals -----------------------------------------------------------------------

    def _emit_pending(self) -> None:
        """Build the absorbed roots a slice at a time and write each slice to every sink.

        A slice is built while the sinks write the one before (their database and Tantivy
        work runs outside the GIL), and a snapshot's state is written meanwhile
        (``save_ahead``: without a position, so a crash still means a new snapshot).
        Every slice is durable in every sink, and the state written, before this returns
        or raises; each sink is still used by one thread at a time.
        """
        with self._gc_paused(), self._bulk_load():
            self._emit_pending_slices()
        self._forgotten_through = max(self._forgotten_through, self._batch_commit or 0)

    @contextmanager
    def _bulk_load(self) -> Iterator[None]:
        """The absorbed roots are built once each, this runner alone writes its sinks' versions,
        and nothing is acknowledged before the bulk ends: sinks that can take that the quick way
        are told so (``BulkLoads``)."""
        bulk = [sink for sink in self._sinks if isinstance(sink, BulkLoads)]
        for sink in bulk:
            sink.begin_bulk()
        try:
            yield
        except BaseException:
            for sink in bulk:
                try:
                    sink.end_bulk(completed=False)
                except Exception:  # noqa: BLE001 — the bulk's own failure is the one to raise
                    log.exception("ending a failed bulk load failed", extra={"sink": sink.name})
            raise
        with self._stage("sinks"):
            for sink in bulk:
                sink.end_bulk(completed=True)

    @contextmanager
    def _gc_paused(self) -> Iterator[None]:
        paused = self.config.tune_gc and gc.isenabled()
        if paused:
            gc.freeze()  # the state is final here; only documents come and go
            gc.disable()
        try:
            yield
        finally:
            if paused:
                gc.enable()

    def _save_ahead(self) -> None:
        """While a snapshot is read, let the projection write what state absorbed so far on the
        side, one save at a time (it may wait for the build: ``save_ahead(reading=True)``)."""
        if self._saving is None or self._saving.done():
            if self._saving is not None:
                self._saving.result()  # a failed save fails the batch, as a failed commit would
            self._saving = self._behind.submit(self._projection.save_ahead, True)

    def _emit_pending_slices(self) -> None:
        if self._saving is not None:
            earlier, self._saving = self._saving, None
            earlier.result()  # never two saves at once: the store has one connection
        saving = self._behind.submit(self._projection.save_ahead, False) if self._projection.pending_roots else None
        writing: tuple[Future[None], list[RootDocuments]] | None = None
        slices = slice_sizes(self.config.emit_roots)
        try:
            while self._projection.pending_roots:
                if self._snapshot_check is not None:
                    self._snapshot_check()
                with self._stage("project"):
                    documents, rejected = self._projection.emit(next(slices))
                self._store_dead(None, rejected)
                if writing is not None:
                    writing[0].result()
                    self._published(writing[1])
                    writing = None
                if documents:
                    writing = self._behind.submit(self._write_sinks, documents), documents
            if writing is not None:
                writing[0].result()
                self._published(writing[1])
                writing = None
            if saving is not None:
                saving.result()
        finally:
            # On an error, nothing may still be writing when the caller retries or closes.
            if writing is not None:
                writing[0].exception()  # waits; the first error is already propagating
            if saving is not None:
                saving.exception()

    def _store_dead(self, decoded: Decoded | None, rejected: list[Rejected]) -> None:
        pipeline, prefix = self.config.pipeline, self.config.topic_prefix
        dead = list(decoded.dead) if decoded is not None else []
        for r in rejected:
            if decoded is not None and r.index >= 0:
                source = decoded.sources[r.index]
            else:
                assert r.event is not None  # the projection names the event when the index is gone
                source = record_of(r.event, prefix)
            dead.append(dead_letter(pipeline, r.stage, source, r.error))
        if dead:
            with self._stage("dead_letters"):
                self._dead_letters.add(dead)
            self.metrics.count("dlq", len(dead))

    def _publish(self, documents: list[RootDocuments]) -> None:
        """Write ``documents`` to every sink, durably, and count them."""
        if not documents:
            return
        self._write_sinks(documents)
        self._remember(documents)
        self._published(documents)

    def _published(self, documents: list[RootDocuments]) -> None:
        """Count ``documents``, now durable in every sink, and tell the listeners."""
        self.metrics.count("sink", sum(len(d.documents) or 1 for d in documents))
        self._observe_freshness(documents)
        for listener in self._visible:
            listener(documents)

    def _remember(self, documents: list[RootDocuments]) -> None:
        now = self._clock()
        commit = self._batch_commit if self._batch_commit is not None else self._applied
        self._recent.append((now, commit, [encode_emission(d) for d in documents]))
        while self._recent and (now - self._recent[0][0] > self.config.recent_seconds
                                or len(self._recent) > self.config.recent_max_batches):
            _, forgotten, _ = self._recent.popleft()
            self._forgotten_through = max(self._forgotten_through, forgotten)

    def _write_sinks(self, documents: list[RootDocuments]) -> None:
        """Every sink writes and flushes ``documents``, side by side (``write_and_flush``)."""
        with self._stage("sinks"):
            write_and_flush(self._sinks, documents, self._executor, self._flushed)

    def _flushed(self, sink: Sink, seconds: float) -> None:
        self.metrics.flushed(sink.name, seconds)
        self.metrics.timed(f"sink:{sink.name}", seconds)

    @contextmanager
    def _stage(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.metrics.timed(stage, time.perf_counter() - started)

    def _acknowledge(self, commit: int | None, records: list[ChangeRecord], events: int) -> None:
        if commit is None:
            return  # the middle of a snapshot or of a large transaction: nothing completes here
        self._durable = commit
        if commit > self._applied:
            self._applied = commit
        self._checkpoints.save(self._applied, _commit_time(records), events)
        self.metrics.applied(self._applied)

    def _observe_freshness(self, documents: list[RootDocuments]) -> None:
        now = datetime.now(UTC)
        for emitted in documents:
            if emitted.committed_at is not None:
                self.metrics.fresh((now - emitted.committed_at).total_seconds())


FIRST_SLICE_SHARE = 8


def slice_sizes(most: int) -> Iterator[int]:
    """Roots per slice of a snapshot's build: ``most / 8`` first, doubling up to ``most``.

    The sinks wait for the first slice's build, and every slice after is built while the
    sinks write the one before. At 10k products building a slice took about as long as
    writing it, so the whole took about the first slice's build plus the writes of them all:
    a small first slice starts the sinks sooner (4 alternating pairs against 2,000 roots
    from the start: 0.96x the seconds, each pair faster). Later slices are larger, so the
    dimension lookups a slice shares are made fewer times.
    """
    size = max(1, most // FIRST_SLICE_SHARE)
    while True:
        yield size
        size = min(most, size * 2)


def _waited(batch: Sequence[ChangeRecord], cap: float) -> float:
    """Seconds since the commit of the batch's first streamed change (server clock), within
    [0, cap]; 0 for snapshots. A transaction's BEGIN marker comes first and carries no
    source: the first change after it tells."""
    for record in batch:
        source = (record.value or {}).get("source")
        if not isinstance(source, dict):
            continue
        committed = source.get("ts_ms") if source.get("snapshot") == "false" else None
        if not isinstance(committed, int):
            return 0.0
        return min(cap, max(0.0, time.time() - committed / 1000))
    return 0.0


def _commit_time(records: list[ChangeRecord]) -> datetime | None:
    for record in reversed(records):
        source = (record.value or {}).get("source")
        if isinstance(source, dict) and isinstance(source.get("ts_ms"), int) and source.get("snapshot") == "false":
            return datetime.fromtimestamp(source["ts_ms"] / 1000, UTC)
    return None
