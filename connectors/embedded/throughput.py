"""Capture throughput of the embedded connector: ``python -m connectors.embedded.throughput``.

Starts a throwaway PostgreSQL (pgserver binaries) in a temporary folder, creates a
5-column table in a publication, starts the connector with an in-memory consumer, bulk
inserts the rows in one transaction and reports how fast their change events reach the
consumer (from the commit to the last event delivered), then the same for the snapshot
of those rows by a fresh slot. Prints one JSON line.

Beside each rate, the CPU it cost on each side, to tell which one limits: this
process's CPU per row (``time.process_time``: the connector is the only thing running
in it) and, while streaming, the walsender's CPU (``/proc/<pid>/stat`` of the slot's
``active_pid``; the server runs on this machine) and the inserting backend's. A side
whose CPU time is close to the wall time is the one that limits.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import psycopg

from rustok.postgres import EmbeddedPostgres, ensure_database

from .connector import ConnectorConfig, EmbeddedConnector
from .memory import InMemoryConsumer

_SCHEMA = """
CREATE TABLE bench (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(12,2), updated timestamptz);
ALTER TABLE bench REPLICA IDENTITY FULL;
CREATE PUBLICATION rustok_cdc FOR TABLE bench;
"""
_INSERT = """
INSERT INTO bench SELECT g, 'item ' || g, g %% 1000, (g %% 10000) / 100.0, now() FROM generate_series(1, %s) g
"""


def _changes(consumer: InMemoryConsumer) -> int:
    return consumer.count


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a local process, or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 3)


def _pid(conn: psycopg.Connection[tuple[object, ...]], query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(str(row[0]))


def measure(rows: int, port: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        server = EmbeddedPostgres(Path(folder) / "pg", preferred_port=port)
        info = server.start()
        try:
            ensure_database(info.url("postgres"), "bench")
            dsn = info.url("bench")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(_SCHEMA)
            consumer = InMemoryConsumer(keep=False)
            connector = EmbeddedConnector(ConnectorConfig(dsn=dsn, slot_name="bench_stream"), consumer)
            connector.start()
            expected = rows + 2  # the changes plus BEGIN and END
            with psycopg.connect(dsn, autocommit=True) as conn:
                walsender = _pid(conn, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'bench_stream'")
                backend = _pid(conn, "SELECT pg_backend_pid()")
                backend_before, walsender_before = _cpu_seconds(backend), _cpu_seconds(walsender)
                began_insert = time.perf_counter()
                conn.execute(_INSERT, (rows,))
                inserted = time.perf_counter() - began_insert
                backend_cpu = _spent(backend_before, _cpu_seconds(backend))
            committed = time.perf_counter()
            walsender_at_commit = _cpu_seconds(walsender)
            cpu_before = time.process_time()
            while _changes(consumer) < expected:
                connector.poll(0.5)
            streamed = time.perf_counter() - committed
            stream_cpu = time.process_time() - cpu_before
            walsender_after = _cpu_seconds(walsender)
            connector.close()

            snapshot_consumer = InMemoryConsumer(keep=False)
            snapshotter = EmbeddedConnector(ConnectorConfig(dsn=dsn, slot_name="bench_snapshot"), snapshot_consumer)
            began = time.perf_counter()
            cpu_before = time.process_time()
            snapshotter.start()
            snapshotted = time.perf_counter() - began
            snapshot_cpu = time.process_time() - cpu_before
            snapshotter.close()
        finally:
            server.destroy()
    return {
        "rows": rows,
        "stream_seconds": round(streamed, 3),
        "stream_rows_per_second": round(rows / streamed),
        "stream_connector_cpu_seconds": round(stream_cpu, 3),
        "stream_connector_cpu_us_per_row": round(stream_cpu / rows * 1e6, 2),
        "stream_walsender_cpu_seconds_during_insert": _spent(walsender_before, walsender_at_commit),
        "stream_walsender_cpu_seconds_after_commit": _spent(walsender_at_commit, walsender_after),
        "insert_seconds": round(inserted, 3),
        "insert_backend_cpu_seconds": backend_cpu,
        "snapshot_seconds": round(snapshotted, 3),
        "snapshot_rows_per_second": round(rows / snapshotted),
        "snapshot_connector_cpu_us_per_row": round(snapshot_cpu / rows * 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=55881)
    args = parser.parse_args()
    print(json.dumps(measure(args.rows, args.port)))


if __name__ == "__main__":
    main()
