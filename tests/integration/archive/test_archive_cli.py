"""`rustok archive` as a user runs it: a real process against a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from rustok import demo
from rustok.archive import read_manifest
from tests.integration.archive.changes import rename

RUSTOK = Path(sys.executable).parent / "rustok"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, "RUSTOK_DATABASE_URL": database_url, "RUSTOK_STATE_DIR": str(tmp_path / "state"),
           "COLUMNS": "200"}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def test_archive_stops_once_caught_up_and_reports_events_per_table(
    env: dict[str, str], engine: sa.Engine, tmp_path: Path
) -> None:
    demo.seed_demo(engine)
    directory = tmp_path / "archive"
    done = subprocess.run([str(RUSTOK), "archive", str(directory)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(directory)
    assert manifest is not None and manifest.durable_lsn is not None
    assert "commerce_products" in done.stdout and f"{len(demo.PRODUCTS)}" in done.stdout
    assert f"{manifest.events:,}" in done.stdout and "parts written" in done.stdout


def test_the_progress_estimate_is_the_snapshot_then_what_the_slot_holds(
    env: dict[str, str], engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    from rustok.archive.embedded import expected_events

    demo.seed_demo(engine)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        captured = conn.execute("SELECT count(*) FROM commerce_products").fetchone()
    first = expected_events(database_url, "rustok_archive")
    assert first is not None and captured is not None and first >= captured[0] > 0
    directory = tmp_path / "archive"
    assert subprocess.run([str(RUSTOK), "archive", str(directory)], env=env, capture_output=True,
                          timeout=120).returncode == 0
    assert expected_events(database_url, "rustok_archive") == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = title || '!'")
        changed = conn.execute("SELECT count(*) FROM commerce_product_translations").fetchone()
    assert changed is not None and expected_events(database_url, "rustok_archive") == changed[0]


def _durable(directory: Path) -> int | None:
    manifest = read_manifest(directory)
    return None if manifest is None else manifest.durable_lsn


def test_archive_follow_keeps_archiving_until_interrupted(
    env: dict[str, str], engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    demo.seed_demo(engine)
    directory = tmp_path / "archive"
    process = subprocess.Popen([str(RUSTOK), "archive", str(directory), "--follow"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _durable(directory) is None:
            assert time.monotonic() < deadline and process.poll() is None, "the snapshot was archived"
            time.sleep(0.1)
        with psycopg.connect(database_url, autocommit=True) as conn:
            rename(conn, demo.demo_id("product", "linen-shirt"), "Followed")
        time.sleep(1.0)
        assert process.poll() is None, "still following"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    manifest = read_manifest(directory)
    assert manifest is not None
    assert "commerce_product_translations" in stdout
    rows = ds.dataset(directory, format="parquet", partitioning="hive").to_table().to_pylist()
    assert any(row["op"] == "u" and "Followed" in (row["after"] or "") for row in rows)
