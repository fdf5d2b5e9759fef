"""Prometheus metrics of the pipelines, per pipeline and stage.

* ``rustok_pipeline_events_total{pipeline, stage}``: events in at ``source``, documents
  out at ``sink``, rejected at ``dlq``.
* ``rustok_pipeline_lag_bytes{pipeline}``: source position (server WAL end) minus the
  processed position.
* ``rustok_pipeline_applied_lsn{pipeline}``: the checkpointed position.
* ``rustok_pipeline_freshness_seconds{pipeline}``: commit time → visible in every sink.
* ``rustok_pipeline_flush_seconds{pipeline, sink}``: how long each sink's flush took.
* ``rustok_pipeline_stage_seconds_total{pipeline, stage}``: time the runner spent per
  stage of its flushes (decode, project, dead_letters, sinks, state_commit, checkpoint;
  ``sink:<name>`` is each sink's own write+flush time, which overlap under ``sinks``),
  so a slow pipeline shows where its time goes.

Metrics live in a registry passed in (the default one for servers), so tests and
several runners in one process do not collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

FRESHNESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class PipelineMetrics:
    def __init__(self, pipeline: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.pipeline = pipeline
        self._events = Counter("rustok_pipeline_events", "Events per stage", ["pipeline", "stage"], registry=self.registry)
        self._lag = Gauge("rustok_pipeline_lag_bytes", "Source WAL end minus processed position", ["pipeline"],
                          registry=self.registry)
        self._applied = Gauge("rustok_pipeline_applied_lsn", "Checkpointed source position", ["pipeline"],
                              registry=self.registry)
        self._freshness = Histogram("rustok_pipeline_freshness_seconds", "Commit to visible in every sink",
                                    ["pipeline"], buckets=FRESHNESS_BUCKETS, registry=self.registry)
        for labelled in (self._lag, self._applied, self._freshness):
            labelled.labels(pipeline)  # exported from the start, not only once something happened
        self._flush = Histogram("rustok_pipeline_flush_seconds", "Sink flush duration", ["pipeline", "sink"],
                                registry=self.registry)
        self._stage = Counter("rustok_pipeline_stage_seconds", "Runner time per stage", ["pipeline", "stage"],
                              registry=self.registry)

    def count(self, stage: str, n: int = 1) -> None:
        if n:
            self._events.labels(self.pipeline, stage).inc(n)

    def applied(self, lsn: int, source_end: int | None = None) -> None:
        self._applied.labels(self.pipeline).set(lsn)
        if source_end is not None:
            self._lag.labels(self.pipeline).set(max(0, source_end - lsn))

    def fresh(self, seconds: float) -> None:
        self._freshness.labels(self.pipeline).observe(max(0.0, seconds))

    def flushed(self, sink: str, seconds: float) -> None:
        self._flush.labels(self.pipeline, sink).observe(seconds)

    def timed(self, stage: str, seconds: float) -> None:
        self._stage.labels(self.pipeline, stage).inc(max(0.0, seconds))

    def stage_seconds(self, stage: str) -> float:
        """Total time spent in a runner stage so far."""
        value = self.registry.get_sample_value("rustok_pipeline_stage_seconds_total",
                                               {"pipeline": self.pipeline, "stage": stage})
        return value or 0.0

    def events(self, stage: str) -> float:
        """Current count of a stage (for status output and tests)."""
        value = self.registry.get_sample_value("rustok_pipeline_events_total",
                                               {"pipeline": self.pipeline, "stage": stage})
        return value or 0.0
