"""A database holding the real embedded pipeline's output, built once per session and cloned per test.

Building it: migrated schema, the demo catalogue, the embedded pipeline running while a
mixed workload streams through it (so rows carry commit times), then the pipeline stopped
and its slot dropped. The write rows are then dated an hour back, as for a catalogue
written earlier: the suites give entities changed within the freshness bound time to
arrive, and a crafted bad row must not hide behind that grace.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from ulid import ULID

from migrations import runner
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.postgres import ServerInfo, drop_database, ensure_database
from tests.integration.runtime.readmodel import applied_lsn
from tests.integration.runtime.workload import Workload

BACKDATED = ("tenants", "tenant_locales", "commerce_products", "nodes")


def _wait_until_applied(url: str, target: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while applied_lsn(url) < target:
        if time.monotonic() > deadline:
            raise AssertionError("the pipeline did not catch up in time")
        time.sleep(0.05)


def _build(url: str, state_dir: Path) -> None:
    engine = sa.create_engine(runner.sqlalchemy_url(url), poolclass=sa.NullPool)
    demo.seed_demo(engine)
    engine.dispose()
    with EmbeddedPipeline(PipelineOptions(database_url=url, state_dir=state_dir)), \
            psycopg.connect(url, autocommit=True) as conn:
        workload = Workload(url, seed=11)
        for _ in range(40):
            workload.step(conn)
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        assert row is not None
        _wait_until_applied(url, int(row[0]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                     " WHERE database = current_database()")
        for table in BACKDATED:
            stamp = "created_at" if table == "tenant_locales" else "updated_at"
            conn.execute(f"UPDATE {table} SET {stamp} = {stamp} - interval '1 hour'")


@pytest.fixture(scope="session")
def pipeline_template(admin_url: str, pg_server: ServerInfo, migrated_template: str,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    name = f"c_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=migrated_template)
    state_dir = tmp_path_factory.mktemp("contracts") / "pipeline"
    _build(pg_server.url(name), state_dir)
    yield name, state_dir
    drop_database(admin_url, name)


@pytest.fixture
def pipeline_db(admin_url: str, pg_server: ServerInfo, pipeline_template: tuple[str, Path]) -> Iterator[str]:
    """A fresh copy of the pipeline's output (write model and read model)."""
    name = f"t_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=pipeline_template[0])
    yield pg_server.url(name)
    drop_database(admin_url, name)
