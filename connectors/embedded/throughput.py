"""Capture throughput of the embedded connector: ``python -m connectors.embedded.throughput``.

Starts a throwaway PostgreSQL (pgserver binaries) in a temporary folder, creates a
5-column table in a publication, starts the connector with an in-memory consumer, bulk
inserts the rows in one transaction and reports how fast their change events reach the
consumer (from the commit to the last event delivered), then the same for the snapshot
of those rows by a fresh slot. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
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
                conn.execute(_INSERT, (rows,))
            committed = time.perf_counter()
            while _changes(consumer) < expected:
                connector.poll(0.5)
            streamed = time.perf_counter() - committed
            connector.close()

            snapshot_consumer = InMemoryConsumer(keep=False)
            snapshotter = EmbeddedConnector(ConnectorConfig(dsn=dsn, slot_name="bench_snapshot"), snapshot_consumer)
            began = time.perf_counter()
            snapshotter.start()
            snapshotted = time.perf_counter() - began
            snapshotter.close()
        finally:
            server.destroy()
    return {
        "rows": rows,
        "stream_seconds": round(streamed, 3),
        "stream_rows_per_second": round(rows / streamed),
        "snapshot_seconds": round(snapshotted, 3),
        "snapshot_rows_per_second": round(rows / snapshotted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=55881)
    args = parser.parse_args()
    print(json.dumps(measure(args.rows, args.port)))


if __name__ == "__main__":
    main()
