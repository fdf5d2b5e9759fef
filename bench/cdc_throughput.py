"""CDC benchmarks: embedded capture throughput, and commit → delivered latency beside Debezium.

Usage: .venv/bin/python -m bench.cdc_throughput [--rows 200000] [--rate 500] [--seconds 10] [--bulk-rows 50000] [--no-debezium]
Writes bench/results/cdc_throughput.json.

* Throughput: ``connectors.embedded.throughput.measure``: one bulk INSERT of ``rows``
  rows (5 columns) into a captured table, from the commit to the last change event
  handed to an in-memory consumer; then the snapshot of those rows by a fresh slot.
  Beside the rates: the connector's CPU per row and the walsender's CPU (which side
  limits), and the load average around the measurement. ``--no-debezium`` skips Kafka
  (for iterating); the published run measures both.
* Latency: a writer commits single-row INSERTs at ``rate`` commits per second for
  ``seconds``; each row's latency is from the moment its COMMIT returned to the
  moment the embedded connector delivered it (in-process consumer), and, in the same
  run on the same database, to the moment a Kafka consumer received Debezium's record
  (real Kafka Connect from the local runtime, ``poll`` with no wait of its own).
* Bulk beside Debezium: then one INSERT of ``--bulk-rows`` rows; per system, rows/s from
  its COMMIT to the last row's change delivered.
The machine's load average is recorded before and after: it is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from connectors import debezium_registration as registration
from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector
from connectors.embedded.throughput import measure
from connectors.kafka_runtime import KafkaRuntime, install_jars
from rustok.postgres import EmbeddedPostgres, ensure_database

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

RESULTS = Path(__file__).parent / "results" / "cdc_throughput.json"
SCHEMA = """
CREATE TABLE lat (id bigint PRIMARY KEY, payload text NOT NULL);
ALTER TABLE lat REPLICA IDENTITY FULL;
CREATE PUBLICATION rustok_cdc FOR TABLE lat;
"""


class _Arrivals:
    """Records when each row id was delivered (the embedded connector's consumer)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self._durable: int | None = None

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        now = time.perf_counter()
        for record in batch:
            if record.topic.endswith(".lat") and record.value and record.value.get("op") == "c":
                self.at[int(record.value["after"]["id"])] = now
            if record.commit_lsn is not None:
                self._durable = record.commit_lsn

    def durable_lsn(self) -> int | None:
        return self._durable


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"count": len(ordered), "p50_ms": round(pick(0.50), 2), "p90_ms": round(pick(0.90), 2),
            "p99_ms": round(pick(0.99), 2), "max_ms": round(ordered[-1] * 1000, 2),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def _write_paced(url: str, rate: int, seconds: float) -> dict[int, float]:
    committed: dict[int, float] = {}
    interval = 1.0 / rate
    with psycopg.connect(url, autocommit=True) as conn:
        began = time.perf_counter()
        for n in range(int(rate * seconds)):
            target = began + n * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            conn.execute("INSERT INTO lat VALUES (%s, 'x')", (n,))
            committed[n] = time.perf_counter()
    return committed


def _debezium_reader(bootstrap: str, topic: str, arrivals: dict[int, float], stop: threading.Event) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=5)
    try:
        partition = TopicPartition(topic, 0)
        while not stop.is_set() and topic not in consumer.topics():
            time.sleep(0.1)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        while not stop.is_set():
            for messages in consumer.poll(timeout_ms=50).values():
                now = time.perf_counter()
                for message in messages:
                    if message.value:
                        value = json.loads(message.value)
                        if value.get("op") == "c":
                            arrivals[int(value["after"]["id"])] = now
    finally:
        consumer.close()


def _bulk(url: str, rows: int, first: int, embedded_at: dict[int, float],
          debezium_at: dict[int, float] | None) -> dict[str, Any]:
    """One INSERT of ``rows`` rows; per system, rows/s from sending the (autocommitted) INSERT to
    the last row's change delivered (Debezium's: received by a Python Kafka consumer). One
    transaction is delivered in order, so the last id arriving means every row has. Timed from
    the send, not from the client seeing the COMMIT: on a small insert the embedded connector
    can deliver the last row before the client hears back, which gave a negative rate."""
    if rows <= 0:
        return {}
    last = first + rows - 1
    with psycopg.connect(url, autocommit=True) as conn:
        committed = time.perf_counter()
        conn.execute("INSERT INTO lat SELECT g, 'bulk' FROM generate_series(%s::bigint, %s::bigint) g", (first, last))
    systems = {"embedded": embedded_at, **({"debezium": debezium_at} if debezium_at is not None else {})}
    deadline = committed + 60 + rows / 1_000
    while time.perf_counter() < deadline and any(last not in at for at in systems.values()):
        time.sleep(0.1)
    out: dict[str, Any] = {"rows": rows}
    for name, at in systems.items():
        out[f"{name}_rows_per_second"] = round(rows / (at[last] - committed)) if last in at else None
    return out


def latency(rate: int, seconds: float, with_debezium: bool, workdir: Path,
            shared_runtime: KafkaRuntime | None = None, bulk_rows: int = 0) -> dict[str, Any]:
    """Commit → delivered latency of the embedded connector and, ``with_debezium``, of Debezium in
    the same run (on ``shared_runtime`` if given, left running; else on a runtime of its own); then,
    with ``bulk_rows``, both systems' throughput on one bulk INSERT (``_bulk``)."""
    server = EmbeddedPostgres(workdir / "pg", preferred_port=55882)
    info = server.start()
    runtime: KafkaRuntime | None = None
    try:
        ensure_database(info.url("postgres"), "lat")
        url = info.url("lat")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        debezium_at: dict[int, float] = {}
        stop = threading.Event()
        reader = None
        config = registration.load_config(tables=["lat"], **registration.connection_settings(url))
        if with_debezium:
            if shared_runtime is None:
                runtime = KafkaRuntime(workdir / "kafka", install_jars())
                runtime.up()
            connect = shared_runtime or runtime
            assert connect is not None
            registration.register(connect.connect_url, config, timeout=120)
            reader = threading.Thread(target=_debezium_reader,
                                      args=(connect.bootstrap_servers, "rustok.public.lat", debezium_at, stop))
            reader.start()
            time.sleep(3.0)  # Debezium's (empty) snapshot and streaming start
        arrivals = _Arrivals()
        connector = EmbeddedConnector(ConnectorConfig(dsn=url, slot_name="bench_latency"), arrivals)
        connector.start()
        running = threading.Event()
        pump = threading.Thread(target=connector.run, args=(running, 0.2))
        pump.start()
        load_during = os.getloadavg()
        committed = _write_paced(url, rate, seconds)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(arrivals.at) < len(committed)
                                               or (with_debezium and len(debezium_at) < len(committed))):
            time.sleep(0.2)
        bulk = _bulk(url, bulk_rows, len(committed), arrivals.at, debezium_at if with_debezium else None)
        running.set()
        pump.join()
        connector.close()
        stop.set()
        if reader is not None:
            reader.join()
        result: dict[str, Any] = {"rate_commits_per_second": rate, "seconds": seconds, "load_average_at_start": load_during,
                                  "embedded": _percentiles([arrivals.at[n] - t for n, t in committed.items() if n in arrivals.at])}
        if with_debezium:
            result["debezium"] = _percentiles([debezium_at[n] - t for n, t in committed.items() if n in debezium_at])
            result["debezium_p50_over_embedded_p50"] = round(result["debezium"]["p50_ms"] / result["embedded"]["p50_ms"], 1)
            result["debezium_p99_over_embedded_p99"] = round(result["debezium"]["p99_ms"] / result["embedded"]["p99_ms"], 1)
        if bulk:
            result["bulk"] = bulk
        if shared_runtime is not None:
            registration.delete(shared_runtime.connect_url)  # its database goes away with this call
        return result
    finally:
        if runtime is not None:
            runtime.down()
        server.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-debezium", action="store_true")
    parser.add_argument("--bulk-rows", type=int, default=50_000,
                        help="then one bulk INSERT of this many rows, captured by both systems (0: skip)")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                          "load_average_before": os.getloadavg()}}
    load_at_start = os.getloadavg()
    report["throughput"] = {**measure(args.rows, 55881), "load_average_at_start": load_at_start,
                            "load_average_at_end": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        report["latency"] = latency(args.rate, args.seconds, not args.no_debezium, Path(folder),
                                    bulk_rows=args.bulk_rows)
    report["machine"]["load_average_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
