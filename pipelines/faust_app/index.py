"""Stage 2, "index": documents-topic messages → every sink, durable before the ack.

The worker calls :meth:`IndexStage.process` in a thread (the sinks block on
PostgreSQL and Tantivy) and acknowledges the batch only after it returned, so a
crash replays at most the batches whose flush had not completed; the sinks' version
guards make that replay invisible.

The sinks write and flush side by side, one thread each (their PostgreSQL and Tantivy
work runs outside the GIL): a batch takes as long as the slowest sink, not their sum.

Following the alias: :meth:`IndexStage.replace_sinks` swaps the sinks between batches
when a replay switched a document type to a new version. The stage remembers what it
wrote in the last ``recent_seconds`` (the messages as they came, bytes that the cyclic
garbage collector never walks) and writes it into the new sinks: the commits above
the replay's build position R that it wrote only to the old version while the replay
finished. It rewrites every remembered emission, not only those versioned above R: an
emission's version is the LSN of its newest change, which for a transaction that
committed after R can lie below R; the sinks' version guards make the extra ones no-ops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelines.model import RootDocuments
from pipelines.runtime.dead_letters import DeadLetter
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.sinks.base import Sink, write_and_flush

from .messages import InvalidDocsMessage, Origin, decode_docs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DocsRecord:
    origin: Origin
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class Indexed:
    emissions: int = 0
    documents: int = 0
    dead: list[tuple[DeadLetter, Origin]] = field(default_factory=list)


class IndexStage:
    """Parameters:
    sinks: set up already; each batch is written to every sink, then every sink flushes.
    metrics: documents out at stage ``sink``, flush times, freshness (commit → flushed).
    pipeline: name written into dead letters.
    recent_seconds: how long written emissions are remembered for :meth:`replace_sinks`.
    """

    def __init__(self, sinks: Sequence[Sink], metrics: PipelineMetrics, pipeline: str,
                 recent_seconds: float = 30.0) -> None:
        self._sinks = list(sinks)
        self._metrics = metrics
        self._pipeline = pipeline
        self._recent_seconds = recent_seconds
        # (monotonic time, highest version, the batch's documents messages), oldest first
        self._recent: deque[tuple[float, int, list[bytes]]] = deque()
        self._forgotten_version = 0  # the highest version among emissions no longer remembered
        self._lock = threading.Lock()  # process() and replace_sinks() run on different threads
        self._flushing = ThreadPoolExecutor(4, thread_name_prefix=f"{pipeline}-index-sink")

    def process(self, batch: Sequence[DocsRecord]) -> Indexed:
        with self._lock:
            return self._process(batch)

    def replace_sinks(self, retired: Sequence[Sink], added: Sequence[Sink], rewrite_after: int | None) -> bool:
        """Close ``retired``, then write every remembered emission into ``added`` (set up) and
        use them from the next batch on. ``rewrite_after``: the new version's build position R
        (None: nothing to rewrite). Returns False when an emission above R was already forgotten."""
        with self._lock:
            for sink in retired:
                sink.close()
            self._sinks = [s for s in self._sinks if all(s is not r for r in retired)]
            if rewrite_after is not None:
                remembered = [decode_docs(value) for _, _, values in self._recent for value in values]
                for sink in added:
                    sink.write(remembered)
                    sink.flush()
            self._sinks += list(added)
            return rewrite_after is None or self._forgotten_version <= rewrite_after

    def _process(self, batch: Sequence[DocsRecord]) -> Indexed:
        out = Indexed()
        emissions: list[RootDocuments] = []
        values: list[bytes] = []
        for record in batch:
            if record.value is None:
                continue  # a compaction tombstone written by someone else: nothing to apply
            try:
                emissions.append(decode_docs(record.value))
                values.append(record.value)
            except InvalidDocsMessage as exc:
                out.dead.append((self._letter(record, exc), record.origin))
        write_and_flush(self._sinks, emissions, self._flushing,
                        lambda sink, seconds: self._metrics.flushed(sink.name, seconds))
        out.emissions = len(emissions)
        out.documents = sum(len(e.documents) or 1 for e in emissions)
        self._metrics.count("sink", out.documents)
        self._observe_freshness(emissions)
        self._remember(emissions, values)
        return out

    def close(self) -> None:
        with self._lock:
            for sink in self._sinks:
                sink.close()
            self._flushing.shutdown()

    def _remember(self, emissions: list[RootDocuments], values: list[bytes]) -> None:
        now = time.monotonic()
        if emissions:
            self._recent.append((now, max(e.version for e in emissions), values))
        while self._recent and now - self._recent[0][0] > self._recent_seconds:
            _, forgotten, _ = self._recent.popleft()
            self._forgotten_version = max(self._forgotten_version, forgotten)

    def _observe_freshness(self, emissions: list[RootDocuments]) -> None:
        now = datetime.now(UTC)
        for emission in emissions:
            if emission.committed_at is not None:
                self._metrics.fresh((now - emission.committed_at).total_seconds())

    def _letter(self, record: DocsRecord, error: Exception) -> DeadLetter:
        return DeadLetter(
            pipeline=self._pipeline, stage="index", topic=record.origin.topic,
            event_key=None if record.key is None else record.key.decode("utf-8", errors="replace"),
            payload="" if record.value is None else record.value.decode("utf-8", errors="replace"),
            reason=str(error), error_type=type(error).__name__,
        )
