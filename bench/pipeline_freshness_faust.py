"""Commit → visible in the JSONB read table, through Debezium on Kafka Connect and the Faust worker.

Starts its own PostgreSQL (TCP), Kafka broker and Kafka Connect (``KafkaRuntime``), a
catalogue of ``--products`` products (``bench.generator``),
Debezium, and ``faust -A pipelines.app worker`` as a subprocess. When the snapshot is
in the read table and the worker has applied every record it was given (the documents
topic holds several emissions of most roots after a snapshot), a writer commits ``--rate`` transactions per second for
``--duration`` seconds, open loop, each setting one product's English title to a
unique marker ``fresh-<i>`` (product ``i % products``). A poller reads the marker
titles of ``index_products`` every ``--poll`` seconds; marker ``i`` is visible at the
first poll that shows its product at marker ``i`` or a later one (later writes
supersede it). Freshness = that poll's time − the writer's commit time.

    .venv/bin/python -m bench.pipeline_freshness_faust              # 200 writes/s for 20 s
    .venv/bin/python -m bench.pipeline_freshness_faust --duration 5

Writes p50/p95/p99/max to ``bench/results/pipeline_freshness_faust.json``. The poll
interval adds up to one interval to each sample (on average half).

Per-stage split (``stages``), from the Kafka record timestamps of each marker: capture =
commit → Debezium's record on the table topic; project = that record → the project
agent's record on the documents topic; index = that record → visible in the read table.
``worker_metrics`` adds the worker's own time per step (``stage_seconds``: project =
the core, publish = encoding and sending, acks = waiting for the broker, index = the
sinks) and its batch counts.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import multiprocessing
import os
import platform
import re
import shutil
import tempfile
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import psycopg

from bench.pipeline_freshness import MARKER, percentile, write_steadily
from bench.generator import Manifest
from bench.pipeline_rebuild import RESULTS, bench_server, clone, generate_catalog, load_average
from connectors.kafka_runtime import KafkaRuntime, install_jars
from contracts.topics import docs_topic, table_topic
from migrations import runner
from pipelines.faust_app.checkpoint import KafkaOffsets
from rustok.postgres import ensure_database
from tests.integration.faust.harness import Debezium, Worker, create_source_topics, wait_for

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

TOPIC_PREFIX = "benchfaust"
_SEQ = re.compile(rf"^{MARKER}(\d+)$")


class BackgroundLoop:
    """``_run`` in a daemon thread for as long as the ``with`` block lasts; it ends when
    ``_stop`` is set."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        raise NotImplementedError


class ConsumerThread(BackgroundLoop):
    """A Kafka consumer read by a daemon thread for as long as the ``with`` block lasts."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        super().__init__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._consumer.close()


class TopicStamps(ConsumerThread):
    """Kafka record timestamps of each marker on the source topic (Debezium's producer) and
    the products documents topic (the project agent's producer): the per-stage split."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.source_topic = table_topic("commerce_product_translations", prefix=prefix)
        self.docs_topic = docs_topic("product", prefix=prefix)
        self.at: dict[str, dict[str, float]] = {self.source_topic: {}, self.docs_topic: {}}
        super().__init__(KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=20))
        partitions = [TopicPartition(self.source_topic, 0), TopicPartition(self.docs_topic, 0)]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            self._consumer.position(partition)  # resolve the end now, before the writes start

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                for record in records:
                    for marker in _markers(record.value):
                        self.at[record.topic].setdefault(marker, record.timestamp / 1000)


def _markers(value: bytes | None) -> list[str]:
    if not value or MARKER.encode() not in value:
        return []
    data = json.loads(value)
    if "documents" in data:
        return [d["title"] for d in data["documents"] if d.get("locale") == "en" and _SEQ.match(d.get("title", ""))]
    title = (data.get("after") or {}).get("title", "")
    return [title] if _SEQ.match(title) else []


def _split(committed: dict[str, float], stamps: TopicStamps) -> dict[str, Any]:
    """p50/p99 of commit → source topic (capture) and source → docs topic (project)."""
    source, docs = stamps.at[stamps.source_topic], stamps.at[stamps.docs_topic]
    capture = [source[m] - at for m, at in committed.items() if m in source]
    project = [docs[m] - source[m] for m in committed if m in source and m in docs]
    out: dict[str, Any] = {}
    for name, values in (("capture", capture), ("project", project)):
        if values:
            out[name] = {"samples": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                         "p99_ms": round(percentile(values, 0.99) * 1000, 1)}
    return out


class Poller(BackgroundLoop):
    """Reads marker titles every ``interval`` seconds; keeps, per product, when each newer marker appeared."""

    def __init__(self, database_url: str, interval: float) -> None:
        self._url, self._interval = database_url, interval
        self.history: dict[str, list[tuple[int, float]]] = {}  # product → [(seq, first seen)], seq ascending
        super().__init__()

    def _run(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute("SELECT product_id::text, document->>'title' FROM index_products"
                                    " WHERE locale = 'en' AND document->>'title' LIKE %s", (MARKER + "%",)).fetchall()
                now = time.time()
                for product, title in rows:
                    match = _SEQ.match(str(title))
                    seen = self.history.setdefault(product, [])
                    if match and (not seen or int(match.group(1)) > seen[-1][0]):
                        seen.append((int(match.group(1)), now))
                time.sleep(self._interval)

    def visible_at(self, product: str, seq: int) -> float | None:
        seen = self.history.get(product, [])
        index = bisect.bisect_left([s for s, _ in seen], seq)
        return seen[index][1] if index < len(seen) else None


def _product_ids(database_url: str, products: int) -> dict[int, str]:
    """Product number → id (the generator derives ids as ``md5('p' || n)::uuid``)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT n, md5('p' || n)::uuid::text FROM generate_series(1, %s) n", (products,)).fetchall()
    return {int(n): str(pid) for n, pid in rows}


@contextlib.contextmanager
def faust_pipeline(url: str, runtime: KafkaRuntime, work: Path, documents: tuple[int, int]) -> Iterator[tuple[Worker, dict[str, Any]]]:
    """Debezium and a fresh Faust worker on ``url``; yields the worker once the snapshot is in the
    read tables (``documents``: product, content documents), with the rebuild's seconds and peak RSS."""
    debezium = Debezium(runtime.connect_url, url, TOPIC_PREFIX, "bench_faust_slot", "bench-faust")
    create_source_topics(runtime.bootstrap_servers, debezium.prefix)
    load_before = load_average()
    rebuild_started = time.perf_counter()
    debezium.register()
    worker = Worker(work / "worker", {
        "broker": runtime.bootstrap_servers, "topic_prefix": debezium.prefix, "database_url": url,
        "index_dir": str(work / "index"), "app_id": "bench-faust", "slot_name": debezium.slot, "index_version": "1",
    })
    worker.start()
    try:
        wait_for(lambda: _counts(url) >= documents, 900, "the snapshot in the read tables", interval=0.25)
        present = time.perf_counter() - rebuild_started
        # Every document is in the read tables well before the worker is through the snapshot: the
        # project agent builds a root once per batch holding a row of it, so the documents topic
        # holds several emissions of most roots, and the index agent applies each. Writes timed
        # before that backlog is gone would time the backlog, not the steady state.
        offsets = KafkaOffsets(runtime.bootstrap_servers)
        try:
            wait_for(lambda: unapplied_records(offsets, worker.settings["app_id"]) == 0, 900,
                     "the worker through the snapshot's records", interval=0.5)
        finally:
            offsets.close()
        rebuild = {"seconds": round(present, 3), "drained_seconds": round(time.perf_counter() - rebuild_started, 3),
                   "worker_peak_rss_mb": worker_peak_rss_mb(worker),
                   "load_average_before": load_before, "load_average_after": load_average()}
        yield worker, rebuild
    finally:
        worker.stop()
        debezium.delete()


def unapplied_records(offsets: KafkaOffsets, group: str) -> int:
    """Records of the topics ``group`` consumes past its committed offsets: both agents' backlog."""
    committed = offsets.committed(group)
    ends = offsets.end_offsets({topic for topic, _ in committed})
    return sum(max(0, end - committed.get(partition, 0)) for partition, end in ends.items())


def measure(url: str, runtime: KafkaRuntime, work: Path, products: int, rate: float, duration: float,
            poll: float, documents: tuple[int, int]) -> dict[str, Any]:
    """Start Debezium and the Faust worker on ``url``, time the snapshot until the read tables hold
    ``documents`` (product, content documents: the Faust rebuild), then time steady marker writes
    to visibility."""
    with faust_pipeline(url, runtime, work, documents) as (worker, rebuild):
        ids = _product_ids(url, products)
        load_before = load_average()
        with Poller(url, poll) as poller, TopicStamps(runtime.bootstrap_servers, TOPIC_PREFIX) as stamps, \
                ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            # The writer in its own process, as the write API would be.
            committed, write_seconds = pool.submit(write_steadily, url, products, rate, duration).result()
            last = {i % products: i for i in range(len(committed))}
            # A pipeline that cannot keep up is a finding: report what became visible, do not fail.
            caught_up = _settles(lambda: all(poller.visible_at(ids[p + 1], i) for p, i in last.items()), 60)
        assert worker.alive(), worker.log_tail()
        metrics = worker.metrics()
    latencies, index_stage = [], []
    docs_at = stamps.at[stamps.docs_topic]
    for marker, at in committed.items():
        i = int(marker[len(MARKER):])
        seen = poller.visible_at(ids[i % products + 1], i)
        if seen is not None:
            latencies.append(max(0.0, seen - at))
            if marker in docs_at:
                index_stage.append(max(0.0, seen - docs_at[marker]))
    return {
        "rebuild": rebuild,
        "writes": len(committed), "achieved_writes_per_second": round(len(committed) / write_seconds, 1),
        "observed": len(latencies), "never_visible": len(committed) - len(latencies),
        "caught_up_within_60s": caught_up,
        **_latency_summary(latencies),
        "stages": {**_split(committed, stamps),
                   "index": {"samples": len(index_stage), "p50_ms": round(percentile(index_stage, 0.5) * 1000, 1),
                             "p99_ms": round(percentile(index_stage, 0.99) * 1000, 1)} if index_stage else None},
        "worker_metrics": worker_metric_lines(metrics),
        "load_average_before": load_before, "load_average_after": load_average(),
    }


def worker_metric_lines(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines()
            if line.startswith(("rustok_pipeline_freshness_seconds_count", "rustok_pipeline_freshness_seconds_sum",
                                "rustok_pipeline_stage_seconds_total", "rustok_pipeline_events_total",
                                "rustok_pipeline_flush_seconds_sum", "rustok_pipeline_flush_seconds_count"))]


def _settles(condition: Callable[[], bool], timeout: float) -> bool:
    try:
        wait_for(condition, timeout, "", interval=0.2)
        return True
    except AssertionError:
        return False


def _latency_summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {"p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "mean_ms": round(sum(latencies) / len(latencies) * 1000, 1)}


def _counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM index_products), (SELECT count(*) FROM index_content)"
                           ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def worker_peak_rss_mb(worker: Worker) -> float | None:
    """The worker process's peak resident set (VmHWM), while it is alive."""
    if worker.process is None or worker.process.poll() is not None:
        return None
    for line in Path(f"/proc/{worker.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@contextlib.contextmanager
def kafka_and_catalogue(port: int, products: int, database: str) -> Iterator[tuple[KafkaRuntime, Path, str, Manifest]]:
    """A local Kafka stack and a bench PostgreSQL holding a generated catalogue of ``products`` in
    ``database`` (cloned from a template); both stopped and removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-faust-"))
    runtime = KafkaRuntime(work / "kafka", install_jars())
    try:
        runtime.up()
        with bench_server(work, port) as admin_url:
            base = admin_url.rsplit("/", 1)[0]
            ensure_database(admin_url, "bench_template")
            runner.upgrade(base + "/bench_template")
            manifest = generate_catalog(base + "/bench_template", products)
            yield runtime, work, clone(admin_url, "bench_template", database), manifest
    finally:
        runtime.down()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--rate", type=float, default=200.0, help="write transactions per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of writes")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between read-table polls")
    parser.add_argument("--port", type=int, default=55874)
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline_freshness_faust.json")
    args = parser.parse_args()
    with kafka_and_catalogue(args.port, args.products, "bench_freshness_faust") as (runtime, work, url, manifest):
        measured = measure(url, runtime, work, args.products, args.rate, args.duration, args.poll,
                           (manifest.product_documents, manifest.content_documents))
    report = {
        "benchmark": "pipeline_freshness_faust", "products": args.products, "target_rate": args.rate,
        "duration_seconds": args.duration, "poll_seconds": args.poll, "target_p99_ms": 2000,
        "measured": "writer's commit (wall clock after COMMIT returned) to the first poll of index_products showing it",
        "path": "PostgreSQL → Debezium 3.2.7 on Kafka Connect → Kafka → Faust project agent → docs topic → "
                "Faust index agent → JSONB sink and Tantivy",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        **measured,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
