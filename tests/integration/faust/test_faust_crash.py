"""Kill -9 the Faust worker at random moments under continuous writes; after restarts the
read model must equal a clean rebuild.

The rebuild is a second worker with a fresh consumer group (so fresh table changelogs),
its own Tantivy folder and index version 2, reading every topic from the beginning.
Documents are compared without their ``version`` field, in both sinks.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from rustok.reconcile.sources import reconcile
from tests.integration.faust.churn import Churn
from tests.integration.faust.harness import (
    Debezium, Worker, applied_lsn, documents_at, running, unique, wait_for, wal_position,
)
from tests.integration.runtime.readmodel import tantivy_documents

pytestmark = pytest.mark.kafka

KILLS = 3


def _worker(kafka_runtime: KafkaRuntime, url: str, debezium: Debezium, folder: Path, pipeline: str,
            index_version: int) -> Worker:
    return Worker(folder / "worker", {
        "broker": kafka_runtime.bootstrap_servers, "topic_prefix": debezium.prefix, "database_url": url,
        "index_dir": str(folder / "index"), "app_id": unique(f"{pipeline}-"), "slot_name": debezium.slot,
        "index_version": str(index_version), "pipeline": pipeline, "session_timeout": "6",
    })


def _processing(worker: Worker) -> bool:
    """True once this life of the worker has projected changes (its own counters start at zero)."""
    assert worker.alive(), worker.log_tail()
    try:
        text = worker.metrics()
    except OSError:
        return False  # the web server is not up yet
    match = re.search(r'rustok_pipeline_events_total\{pipeline="faust",stage="sink"\} ([0-9.e+]+)', text)
    return match is not None and float(match.group(1)) > 0


def _difference(restarted: dict[tuple[str, str, str], dict[str, Any]],
                rebuilt: dict[tuple[str, str, str], dict[str, Any]], most: int = 8) -> str:
    """Which documents differ, and in which fields (what a failure needs to be understood)."""
    lines = [f"only after the restarts: {sorted(restarted.keys() - rebuilt.keys())[:most]}",
             f"only in the rebuild: {sorted(rebuilt.keys() - restarted.keys())[:most]}"]
    for key in sorted(restarted.keys() & rebuilt.keys()):
        a, b = restarted[key], rebuilt[key]
        if a != b and len(lines) < most + 2:
            lines.append(f"{key}: " + ", ".join(f"{f}: {a.get(f)!r} vs {b.get(f)!r}"
                                                 for f in sorted(a.keys() | b.keys()) if a.get(f) != b.get(f)))
    return "\n".join(lines)


def _token(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return wal_position(conn)


def test_after_kill_9_at_random_moments_the_read_model_equals_a_clean_rebuild(
    kafka_runtime: KafkaRuntime, module_database_url: str, module_engine: sa.Engine, debezium: Debezium,
    module_dir: Path,
) -> None:
    demo.seed_demo(module_engine)
    url = module_database_url
    live = _worker(kafka_runtime, url, debezium, module_dir / "live", "faust", 1)
    moments = random.Random(11)
    with Churn(url, rate=40) as churn:
        live.start()
        for _ in range(KILLS):
            wait_for(lambda: _processing(live), 90, "the worker processing changes")
            time.sleep(moments.uniform(0.2, 2.0))  # somewhere in the middle of batches and commits
            assert live.alive(), live.log_tail()
            live.kill()
            live.start()
        wait_for(lambda: _processing(live), 90, "the worker processing changes")
        time.sleep(1.0)
    assert churn.writes > 300
    token = _token(url)
    try:
        wait_for(lambda: applied_lsn(url, "faust") >= token, 120, "the restarted worker catches up")
    finally:
        live.stop()

    rebuild = _worker(kafka_runtime, url, debezium, module_dir / "rebuild", "faust-rebuild", 2)
    with running(rebuild):
        wait_for(lambda: applied_lsn(url, "faust-rebuild") >= token, 120, "the rebuild catches up")

    for table, doc_type in (("index_products", "product"), ("index_content", "content")):
        restarted, rebuilt = documents_at(url, table, 1), documents_at(url, table, 2)
        assert len(restarted) > 10
        assert restarted == rebuilt, f"{table}: {len(restarted)} vs {len(rebuilt)} documents\n" + _difference(
            restarted, rebuilt) + f"\nwrite model vs the restarted version 1: {reconcile(url).as_dict()}"
        assert tantivy_documents(module_dir / "live" / "index", doc_type, 1) == restarted
        assert tantivy_documents(module_dir / "rebuild" / "index", doc_type, 2) == rebuilt
