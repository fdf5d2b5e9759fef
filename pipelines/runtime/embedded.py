"""The embedded runner: the connector's consumer, the core's driver, the sinks' checkpointer.

The embedded CDC connector delivers whole transactions in commit order. The runner
buffers them for at most ``linger`` seconds (or ``max_batch_events`` events), then
flushes one micro-batch:

1. decode records into change events (undecodable ones become dead letters);
2. the projection core applies the events to state and builds every touched root
   once (events it rejects become dead letters);
3. dead letters are stored, every sink writes and flushes (durable, visible);
4. the state store commits with the batch's last commit LSN in it, then the
   PostgreSQL checkpoint (what the search API waits on for ``min_version``);
5. only now is the batch's last commit LSN reported durable, so the connector confirms
   it to the server.

A crash anywhere replays from the last durable LSN. Replayed events are absorbed by
versioned state and version-guarded sinks, and the core re-emits the roots they touch,
so the read model ends equal to a clean rebuild.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent
from pipelines.model import RootDocuments
from pipelines.sinks.base import Sink

from .checkpoints import PostgresCheckpoints
from .dead_letters import DeadLetters
from .decode import dead_letter, decode_records
from .metrics import PipelineMetrics
from .projection import Rejected

log = logging.getLogger(__name__)


class Projection(Protocol):
    """The projection core as the runner drives it (see :class:`~.projection.CoreProjection`)."""

    def position(self) -> int | None: ...

    def project(self, events: Sequence[ChangeEvent]) -> tuple[list[RootDocuments], list[Rejected]]: ...

    def commit(self, position: int | None) -> None:
        """Make the state absorbed so far, and ``position`` with it, durable."""

    def reset(self) -> None:
        """Forget all state (a fresh snapshot follows)."""


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """Parameters:
    pipeline: name in checkpoints, dead letters and metrics.
    topic_prefix: the connector's topic prefix.
    linger: seconds a delivered transaction may wait for others before a flush.
    max_batch_events: flush as soon as this many records are buffered.
    idle_checkpoint_interval: seconds between checkpoint writes for idle progress.
    retry_interval: seconds between looks for dead letters queued for a retry.
    """

    pipeline: str = "embedded"
    topic_prefix: str = "rustok"
    linger: float = 0.05
    max_batch_events: int = 5000
    idle_checkpoint_interval: float = 0.05
    retry_interval: float = 2.0


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
        if self._durable is None:
            projection.reset()

    # -- ChangeConsumer ------------------------------------------------------------------

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        with self._lock:
            if not batch:
                return
            if self._pending_since is None:
                self._pending_since = self._clock()
            self._pending.extend(batch)
            if len(self._pending) >= self.config.max_batch_events:
                self.flush()

    def durable_lsn(self) -> int | None:
        return self._durable

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
            decoded = decode_records(records, self.config.pipeline, self.config.topic_prefix)
            documents, rejected = self._projection.project(decoded.events)
            pipeline = self.config.pipeline
            dead = decoded.dead + [dead_letter(pipeline, r.stage, decoded.sources[r.index], r.error) for r in rejected]
            self._dead_letters.add(dead)
            self._write_sinks(documents)
            commit = max((r.commit_lsn for r in records if r.commit_lsn is not None), default=None)
            self._projection.commit(commit)
            self._acknowledge(commit, records, len(decoded.events))
            self.metrics.count("source", len(decoded.events))
            self.metrics.count("sink", sum(len(d.documents) or 1 for d in documents))
            self.metrics.count("dlq", len(dead))
            self._observe_freshness(documents)

    def close(self) -> None:
        with self._lock:
            self.flush()
            for sink in self._sinks:
                sink.close()
            self._checkpoints.close()

    # -- internals -----------------------------------------------------------------------

    def _write_sinks(self, documents: list[RootDocuments]) -> None:
        for sink in self._sinks:
            started = time.perf_counter()
            sink.write(documents)
            sink.flush()
            self.metrics.flushed(sink.name, time.perf_counter() - started)

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


def _commit_time(records: list[ChangeRecord]) -> datetime | None:
    for record in reversed(records):
        source = (record.value or {}).get("source")
        if isinstance(source, dict) and isinstance(source.get("ts_ms"), int) and source.get("snapshot") == "false":
            return datetime.fromtimestamp(source["ts_ms"] / 1000, UTC)
    return None
