"""A snapshot's end builds roots while the sinks write and its state is saved ahead: a
failure there must leave nothing that claims the snapshot was applied."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from pipelines.model import RootDocuments
from pipelines.runtime.projection import POSITION_MARK
from pipelines.sinks.errors import SinkBackpressure
from pipelines.state.sqlite import SqliteStateStore
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.readmodel import applied_lsn, live_version, table_documents, tantivy_documents


class BrokenSink:
    """A sink whose database is gone: every flush fails (what a lost connection does)."""

    name = "broken"

    def __init__(self) -> None:
        self.flushes = 0

    def setup(self) -> None:
        pass

    def write(self, batch: Sequence[RootDocuments]) -> None:
        pass

    def flush(self) -> None:
        self.flushes += 1
        raise SinkBackpressure("read model unavailable", 0.1)

    def close(self) -> None:
        pass


@pytest.fixture
def options(database_url: str, tmp_path: Path) -> Iterator[PipelineOptions]:
    yield PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def test_a_sink_failing_at_the_end_of_a_snapshot_leaves_state_without_a_position_and_a_restart_rebuilds(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    broken = BrokenSink()
    failing = EmbeddedPipeline(options, extra_sinks=[broken])
    with pytest.raises(SinkBackpressure):
        failing.start()
    failing.stop()
    assert broken.flushes >= 1
    store = SqliteStateStore(options.state_file)
    try:
        # Rows may have been saved ahead, but nothing says the snapshot was applied.
        assert store.mark(POSITION_MARK) is None
    finally:
        store.close()
    assert applied_lsn(database_url) == 0

    with EmbeddedPipeline(options):
        pass
    rows = table_documents(database_url)
    assert {(locale, doc["handle"]) for (_, locale, _), doc in rows.items()} == {
        (locale, handle) for locale in demo.LOCALES for handle in demo.PRODUCTS
    }
    assert tantivy_documents(options.index_dir, "product", live_version(database_url, "product")) == rows
    assert applied_lsn(database_url) > 0
