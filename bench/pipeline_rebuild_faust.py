"""The Faust rebuild: a fresh Debezium snapshot of the generator catalogue through a fresh Faust worker.

Starts its own PostgreSQL, Kafka broker and Kafka Connect, writes ``--products`` products
(``bench.generator``, the catalogue of ``bench.pipeline_rebuild``), registers Debezium and
starts ``faust -A pipelines.app worker`` (``bench.pipeline_freshness_faust.faust_pipeline``),
and times registration → every product and content document in the JSONB read tables.

    .venv/bin/python -m bench.pipeline_rebuild_faust                  # 10 000 products
    .venv/bin/python -m bench.pipeline_rebuild_faust --products 2000

Writes events (the catalogue's rows, one snapshot read each), seconds, events/s, the
worker's peak RSS and the load average to ``bench/results/pipeline_rebuild_faust.json``.
The time includes Debezium's snapshot and Kafka Connect, as a real rebuild does;
``snapshot_in_kafka_after_seconds`` is when the source topics stopped growing (the last
snapshot record in Kafka), so the rest of ``seconds`` is the Faust worker's own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
import warnings
from pathlib import Path
from typing import Any

from bench.pipeline_freshness_faust import (TOPIC_PREFIX, ConsumerThread, faust_pipeline, kafka_and_catalogue,
                                            worker_metric_lines)
from bench.pipeline_rebuild import RESULTS
from connectors.kafka_runtime import KafkaRuntime
from contracts.topics import table_topic
from pipelines.faust_app.settings import PROJECTED_TABLES
from rustok.distributed import create_source_topics

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition


class SourceTopicsWatch(ConsumerThread):
    """Samples the source topics' end offsets: when the last snapshot record reached Kafka,
    so the rebuild's time splits into Debezium's (snapshot → topics) and the rest (Faust)."""

    def __init__(self, bootstrap: str, prefix: str, interval: float = 0.25) -> None:
        self._topics = [table_topic(t, prefix=prefix) for t in PROJECTED_TABLES]
        super().__init__(KafkaConsumer(bootstrap_servers=bootstrap, group_id=None))
        self._interval = interval
        self._started = time.perf_counter()
        self.last_growth = 0.0
        self.records = 0

    def _run(self) -> None:
        partitions = [TopicPartition(t, 0) for t in self._topics]
        while not self._stop.wait(self._interval):
            total = sum(self._consumer.end_offsets(partitions).values())
            if total > self.records:
                self.records, self.last_growth = total, time.perf_counter() - self._started


def measure(url: str, runtime: KafkaRuntime, work: Path, events: int, documents: tuple[int, int]) -> dict[str, Any]:
    create_source_topics(runtime.bootstrap_servers, TOPIC_PREFIX)  # for the watch; idempotent
    with SourceTopicsWatch(runtime.bootstrap_servers, TOPIC_PREFIX) as watch, \
            faust_pipeline(url, runtime, work, documents) as (worker, rebuild):
        metrics = worker_metric_lines(worker.metrics())
    return {"events": events, **rebuild, "events_per_second": round(events / rebuild["seconds"]),
            "source_records_in_kafka": watch.records,
            "snapshot_in_kafka_after_seconds": round(watch.last_growth, 1),
            "worker_metrics": metrics, "documents_messages": _counter(metrics, "sink")}


def _counter(lines: list[str], stage: str) -> float | None:
    for line in lines:
        match = re.match(rf'rustok_pipeline_events_total\{{pipeline="faust",stage="{stage}"\}} (\S+)', line)
        if match:
            return float(match.group(1))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=55876)
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline_rebuild_faust.json")
    args = parser.parse_args()
    with kafka_and_catalogue(args.port, args.products, "bench_rebuild_faust") as (runtime, work, url, manifest):
        measured = measure(url, runtime, work, manifest.total_rows,
                           (manifest.product_documents, manifest.content_documents))
    report = {
        "benchmark": "pipeline_rebuild_faust", "products": args.products,
        "worker_processes": "one (both stages)",
        "measured": "Debezium registered → every product and content document in the JSONB read tables",
        "path": "PostgreSQL snapshot → Debezium 3.2.7 on Kafka Connect → Kafka → Faust project agent → "
                "docs topics → Faust index agent → JSONB sink and Tantivy",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        **measured,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
