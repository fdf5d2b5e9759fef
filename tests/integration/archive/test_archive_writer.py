"""`rustok archive` from the embedded source: real PostgreSQL, a real slot, real Parquet files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from rustok import demo
from rustok.archive import EmbeddedArchiveOptions, archive_embedded, event_of, read_manifest
from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector
from contracts.envelope import parse_change_event
from rustok.archive.embedded import ArchiveConsumer
from rustok.archive.parts import ArchiveDirectory
from rustok.archive.rows import SCHEMA, envelope_of, identity
from tests.integration.archive.changes import (
    DEMO_TENANT, add_product, add_tenant, archived_rows, delete_product, rename)
from tests.waiting import wait_for

LINEN = str(demo.demo_id("product", "linen-shirt"))


@pytest.fixture
def drop_slots(database_url: str) -> Iterator[None]:
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def captured_counts(conn: psycopg.Connection[tuple[object, ...]], tables: set[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        counts[table] = int(str(row[0]))
    return counts


def test_the_archive_holds_one_flattened_row_per_change_event_in_hive_partitions(
    database_url: str, engine: sa.Engine, tmp_path: Path, drop_slots: None
) -> None:
    demo.seed_demo(engine)
    options = EmbeddedArchiveOptions(database_url, tmp_path / "archive")
    first = archive_embedded(options)
    with psycopg.connect(database_url, autocommit=True) as conn:
        snapshot_tables = {row["table"] for row in archived_rows(options.directory)}
        assert captured_counts(conn, snapshot_tables) == first.per_table
        started = datetime.now(UTC)
        acme = add_tenant(conn, "acme")
        kettle = add_product(conn, acme, "kettle", "Kettle")
        rename(conn, LINEN, "Linen Shirt Renamed")
        delete_product(conn, kettle)
        conn.execute("TRUNCATE commerce_product_tags")
    second = archive_embedded(options)

    streamed = [row for row in archived_rows(options.directory) if row["snapshot"] is None]
    assert second.events == len(streamed)
    assert [(r["table"], r["op"]) for r in streamed] == [
        ("tenants", "c"), ("tenant_locales", "c"), ("tenant_modules", "c"), ("tenant_modules", "c"),
        ("tenant_modules", "c"),
        ("commerce_products", "c"), ("commerce_product_translations", "c"), ("commerce_variants", "c"),
        ("commerce_prices", "c"),
        ("commerce_product_translations", "u"),
        ("commerce_prices", "d"), ("commerce_variants", "d"), ("commerce_product_translations", "d"),
        ("commerce_products", "d"),
        ("commerce_product_tags", "t"),
    ]
    assert [r["tenant_id"] for r in streamed] == [str(acme)] * 9 + [DEMO_TENANT] + [str(acme)] * 4 + [None]
    transactions = [r["tx_id"] for r in streamed]
    assert len(set(transactions)) == 5 and transactions[:5] == [transactions[0]] * 5
    assert [r["lsn"] for r in streamed] == sorted(r["lsn"] for r in streamed)
    for row in streamed:
        assert started <= row["commit_ts"] <= datetime.now(UTC)
        assert row["date"] == row["commit_ts"].date().isoformat()
    update = streamed[9]
    assert orjson.loads(update["before"])["title"] == "Linen Shirt"
    assert orjson.loads(update["after"])["title"] == "Linen Shirt Renamed"
    assert orjson.loads(update["key"]) == {"id": str(demo.demo_id("product", "linen-shirt", "en"))}
    deleted = streamed[13]
    assert orjson.loads(deleted["before"])["id"] == str(kettle) and deleted["after"] is None
    truncate = streamed[-1]
    assert truncate["key"] is None and truncate["before"] is None and truncate["after"] is None


class Recording(ArchiveConsumer):
    """The archive's consumer, keeping what the connector handed it, by archive ``seq``."""

    def __init__(self, directory: ArchiveDirectory) -> None:
        super().__init__(directory, "rustok")
        self.values: dict[int, dict[str, Any]] = {}

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        first = self._directory.manifest.next_seq
        self.values.update({first + n: r.value for n, r in enumerate(batch) if r.value is not None})
        super().deliver(batch)


def test_every_archived_row_turns_back_into_exactly_the_change_event_the_connector_emitted(
    database_url: str, engine: sa.Engine, tmp_path: Path, drop_slots: None
) -> None:
    demo.seed_demo(engine)
    directory = ArchiveDirectory(tmp_path / "archive")
    consumer = Recording(directory)
    connector = EmbeddedConnector(ConnectorConfig(dsn=database_url, slot_name="round_trip"), consumer)
    try:
        connector.start()
        with psycopg.connect(database_url, autocommit=True) as conn:
            rename(conn, LINEN, "Round Trip")
            delete_product(conn, add_product(conn, add_tenant(conn, "acme"), "kettle", "Kettle"))
            conn.execute("TRUNCATE commerce_product_tags")
        deadline = time.monotonic() + 20
        while sum(1 for v in consumer.values.values() if v.get("op") == "t") == 0:
            assert time.monotonic() < deadline
            connector.poll(0.2)
        consumer.flush()
    finally:
        connector.close()
    manifest = read_manifest(directory.root)
    assert manifest is not None
    archived = 0
    for part in manifest.parts:
        table = pq.read_table(directory.root / part.path)
        assert table.schema.equals(SCHEMA, check_metadata=False)
        for row in table.to_pylist():
            assert event_of(row) == parse_change_event(consumer.values[row["seq"]])
            assert envelope_of(row) == consumer.values[row["seq"]]
            archived += 1
    changes = [v for v in consumer.values.values() if "op" in v]
    assert archived == len(changes) == manifest.events
    assert {v["op"] for v in changes} == {"r", "c", "u", "d", "t"}


def _slot_active(database_url: str, slot: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
    return bool(row and row[0])


def test_an_archive_killed_in_the_middle_of_the_stream_resumes_without_gaps(
    database_url: str, engine: sa.Engine, tmp_path: Path, repo_root: Path, drop_slots: None
) -> None:
    demo.seed_demo(engine)
    reference = EmbeddedArchiveOptions(database_url, tmp_path / "reference", slot_name="reference_archive")
    killed = EmbeddedArchiveOptions(database_url, tmp_path / "killed")
    archive_embedded(reference)
    archive_embedded(killed)
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, database_url, str(killed.directory)], cwd=repo_root)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            acme = add_tenant(conn, "acme")
            n = 0
            started = time.monotonic()
            # Keep writing until the worker has made some of it durable, then kill it mid-stream.
            while _durable(killed.directory) <= _durable_at_start(killed) and time.monotonic() - started < 20:
                add_product(conn, acme, f"p{n}", f"Product {n}")
                rename(conn, LINEN, f"Linen {n}")
                n += 1
                time.sleep(0.01)
            for m in range(n, n + 5):
                add_product(conn, acme, f"p{m}", f"Product {m}")
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            rename(conn, LINEN, "After the crash")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    wait_for(lambda: not _slot_active(database_url, killed.slot_name))
    archive_embedded(killed)
    archive_embedded(reference)

    def changes(directory: Path) -> list[tuple[object, ...]]:
        # Each slot snapshots at its own consistent point: compare snapshot reads without their LSN.
        return [identity(row) if row["snapshot"] is None else (row["table"], row["key"])
                for row in archived_rows(directory)]

    expected, got = changes(reference.directory), changes(killed.directory)
    assert n > 0 and set(got) == set(expected)
    assert len(expected) == len(set(expected)), "the reference is clean: no repeats"
    assert any(row["after"] and "After the crash" in row["after"] for row in archived_rows(killed.directory))


KILLED_WORKER = """
import sys
from pathlib import Path
from rustok.archive import EmbeddedArchiveOptions, archive_embedded
archive_embedded(EmbeddedArchiveOptions(sys.argv[1], Path(sys.argv[2]), follow=True, part_events=5,
                                        flush_interval=0.01))
"""

_START: dict[Path, int] = {}


def _durable(directory: Path) -> int:
    manifest = read_manifest(directory)
    return 0 if manifest is None or manifest.durable_lsn is None else manifest.durable_lsn


def _durable_at_start(options: EmbeddedArchiveOptions) -> int:
    return _START.setdefault(options.directory, _durable(options.directory))


def test_a_snapshot_interrupted_half_way_is_discarded_and_taken_again(
    database_url: str, engine: sa.Engine, tmp_path: Path, drop_slots: None
) -> None:
    demo.seed_demo(engine)
    options = EmbeddedArchiveOptions(database_url, tmp_path / "archive", part_events=50, snapshot_batch_size=20)

    def crash_after_a_part(events: int) -> None:
        if list(options.directory.rglob("*.parquet")):
            raise RuntimeError("crash in the middle of the snapshot")

    with pytest.raises(RuntimeError):
        archive_embedded(options, crash_after_a_part)
    manifest = read_manifest(options.directory)
    assert manifest is not None and manifest.parts and manifest.durable_lsn is None
    report = archive_embedded(options)
    rows = archived_rows(options.directory)
    assert len({row["lsn"] for row in rows}) == 1, "one snapshot, one consistent point"
    assert len(rows) == report.events == len({identity(row) for row in rows})
    with psycopg.connect(database_url) as conn:
        assert captured_counts(conn, set(report.per_table)) == report.per_table
