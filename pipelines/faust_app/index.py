"""Stage 2, "index": documents-topic messages → every sink, durable before the ack.

The worker calls :meth:`IndexStage.process` in a thread (the sinks block on
PostgreSQL and Tantivy) and acknowledges the batch only after it returned, so a
crash replays at most the batches whose flush had not completed; the sinks' version
guards make that replay invisible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelines.model import RootDocuments
from pipelines.runtime.dead_letters import DeadLetter
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.sinks.base import Sink

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
    """

    def __init__(self, sinks: Sequence[Sink], metrics: PipelineMetrics, pipeline: str) -> None:
        self._sinks = list(sinks)
        self._metrics = metrics
        self._pipeline = pipeline

    def process(self, batch: Sequence[DocsRecord]) -> Indexed:
        out = Indexed()
        emissions: list[RootDocuments] = []
        for record in batch:
            if record.value is None:
                continue  # a compaction tombstone written by someone else: nothing to apply
            try:
                emissions.append(decode_docs(record.value))
            except InvalidDocsMessage as exc:
                out.dead.append((self._letter(record, exc), record.origin))
        for sink in self._sinks:
            started = time.perf_counter()
            sink.write(emissions)
            sink.flush()
            self._metrics.flushed(sink.name, time.perf_counter() - started)
        out.emissions = len(emissions)
        out.documents = sum(len(e.documents) or 1 for e in emissions)
        self._metrics.count("sink", out.documents)
        self._observe_freshness(emissions)
        return out

    def close(self) -> None:
        for sink in self._sinks:
            sink.close()

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
