"""Re-snapshotting one tenant through the signal table repairs the read model while the
embedded pipeline keeps streaming, and never lets a stale read overwrite a newer change."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from contracts.signals import request_incremental_snapshot, tenant_conditions
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.readmodel import applied_lsn, table_documents
from tests.integration.runtime.workload import Workload

from tests.waiting import wait_for

TABLES = ["commerce_products", "commerce_product_translations"]
LINEN = str(demo.demo_id("product", "linen-shirt"))


@pytest.fixture
def options(database_url: str, tmp_path: Path, two_tenants: str) -> Iterator[PipelineOptions]:
    yield PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")


def resnapshot_demo_tenant(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        return request_incremental_snapshot(conn, TABLES, conditions=tenant_conditions(TABLES, demo.TENANT_ID))


def finished(database_url: str, signal: str) -> bool:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT finished_at IS NOT NULL AND error IS NULL FROM rustok_snapshot_progress"
                            " WHERE signal_id = %s", (signal,)).fetchall()
    return len(rows) == len(TABLES) and all(r[0] for r in rows)


def wal_now(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


def wait_applied(database_url: str) -> None:
    target = wal_now(database_url)
    wait_for(lambda: applied_lsn(database_url) >= target, timeout=30)


def corrupt(options: PipelineOptions, database_url: str) -> None:
    """Make state hold a wrong German title for the linen shirt (a streamed row, so its
    version is a streamed one) and lose the shirt's documents from the read table."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id::text FROM commerce_product_translations WHERE product_id = %s"
                           " AND locale = 'de'", (LINEN,)).fetchone()
        assert row is not None
        conn.execute("DELETE FROM index_products WHERE product_id = %s", (LINEN,))
    key = f"commerce_product_translations:{row[0]}"
    with sqlite3.connect(options.state_file) as state:
        (blob,) = state.execute("SELECT value FROM rows WHERE key = ?", (key,)).fetchone()
        stored = json.loads(blob)
        assert stored["v"][0] == 1, "the row should have been streamed, not read by the initial snapshot"
        stored["r"]["title"] = "Corrupted"
        state.execute("UPDATE rows SET value = ? WHERE key = ?", (json.dumps(stored).encode(), key))


def test_a_wrong_row_and_lost_documents_are_repaired_and_equal_the_clean_build(
    options: PipelineOptions, database_url: str
) -> None:
    with EmbeddedPipeline(options):
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE commerce_product_translations SET title = 'Leinenhemd' WHERE product_id = %s"
                         " AND locale = 'de'", (LINEN,))
        wait_applied(database_url)
    clean = table_documents(database_url)
    assert clean[(str(demo.TENANT_ID), "de", LINEN)]["title"] == "Leinenhemd"
    corrupt(options, database_url)
    assert not any(key[2] == LINEN for key in table_documents(database_url))
    with EmbeddedPipeline(options):
        signal = resnapshot_demo_tenant(database_url)
        wait_for(lambda: finished(database_url, signal), timeout=30)
        wait_applied(database_url)
    assert table_documents(database_url) == clean


def test_writes_to_the_same_rows_during_the_snapshot_end_as_a_clean_rebuild_does(
    options: PipelineOptions, database_url: str, tmp_path: Path
) -> None:
    stop = threading.Event()
    workload = Workload(database_url, seed=11)

    def write() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                workload.step(conn)

    with EmbeddedPipeline(options):
        wait_applied(database_url)
        writer = threading.Thread(target=write)
        writer.start()
        try:
            signal = resnapshot_demo_tenant(database_url)
            wait_for(lambda: finished(database_url, signal), timeout=60)
            second = resnapshot_demo_tenant(database_url)  # a second pass while writes still go on
            wait_for(lambda: finished(database_url, second), timeout=60)
        finally:
            stop.set()
            writer.join()
        wait_applied(database_url)
    assert workload.transactions > 0
    resnapshotted = table_documents(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (options.slot_name,))
    rebuild = PipelineOptions(database_url=database_url, state_dir=tmp_path / "rebuild", pipeline="rebuild",
                              slot_name="rustok_rebuild")
    with EmbeddedPipeline(rebuild):
        pass
    assert table_documents(database_url) == resnapshotted
