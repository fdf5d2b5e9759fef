"""Kill -9 the embedded pipeline at random moments while writes go on; after a restart
the read model equals a clean rebuild, in the JSONB tables and in Tantivy. Run twice: with
the projection state in memory, and served from its SQLite file (as a state too large for
memory is)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.readmodel import (applied_lsn, live_version, table_documents, tantivy_documents,
                                                 wal_position)
from tests.integration.runtime.workload import Workload


def start_pipeline(database_url: str, state_dir: Path, log: Path, memory_rows: int | None = None
                   ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUSTOK_DATABASE_URL": database_url, "RUSTOK_STATE_DIR": str(state_dir)}
    if memory_rows is not None:
        env["RUSTOK_PIPELINE_STATE_MEMORY_ROWS"] = str(memory_rows)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "rustok.cli", "pipeline", "run"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.parametrize("memory_rows", [None, 0], ids=["state_in_memory", "state_from_file"])
def test_killing_the_pipeline_mid_stream_loses_and_duplicates_nothing(
    database_url: str, engine: sa.Engine, tmp_path: Path, memory_rows: int | None
) -> None:
    demo.seed_demo(engine)
    state_dir, log = tmp_path / "state", tmp_path / "pipeline.log"
    workload, done = Workload(database_url), threading.Event()

    def write() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for _ in range(240):
                workload.step(conn)
                time.sleep(0.015)
        done.set()

    writer = threading.Thread(target=write)
    process = start_pipeline(database_url, state_dir, log, memory_rows)
    writer.start()
    rng, kills = random.Random(11), 0
    while not done.is_set():
        time.sleep(rng.uniform(0.8, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        process = start_pipeline(database_url, state_dir, log, memory_rows)
    writer.join()
    target = wal_position(database_url)
    deadline = time.monotonic() + 60
    while applied_lsn(database_url) < target:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    assert kills >= 2 and workload.transactions == 240

    survived = table_documents(database_url)
    assert sum(str(doc["title"]).startswith("Workload") for doc in survived.values()) > 10
    assert survived == tantivy_documents(state_dir / "pipeline" / "index", "product",
                                         live_version(database_url, "product"))

    rebuild = PipelineOptions(database_url=database_url, state_dir=tmp_path / "rebuild", slot_name="clean_rebuild")
    with EmbeddedPipeline(rebuild):
        pass
    assert live_version(database_url, "product") == 2
    rebuilt = table_documents(database_url)
    assert rebuilt == survived
    assert tantivy_documents(rebuild.index_dir, "product", 2) == rebuilt
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
