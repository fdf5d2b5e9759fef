"""Fixtures of the replay tests: a seeded database and a live embedded pipeline's options."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from rustok import demo
from rustok.pipeline import PipelineOptions
from rustok.replay import ReplayOptions


@pytest.fixture
def live_options(database_url: str, engine: sa.Engine, tmp_path: Path) -> Iterator[PipelineOptions]:
    demo.seed_demo(engine)
    yield PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active"
                     " AND database = current_database()")


@pytest.fixture
def replay_options(live_options: PipelineOptions) -> ReplayOptions:
    return ReplayOptions(database_url=live_options.database_url, state_dir=live_options.state_dir,
                         grace_seconds=0.1, snapshot_batch_size=50, handover_timeout=30)
