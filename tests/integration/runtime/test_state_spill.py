"""A rebuild whose projection state outgrows memory halfway through the snapshot (the
SQLite store then serves reads from its file) builds the read model a rebuild in memory
builds, and keeps it right while changes stream in: a category rename fanned out to
every product below it, an unpublished product."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.generator import generate
from pipelines.state.sqlite import SqliteStateStore
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.readmodel import caught_up, live_version, table_documents, tantivy_documents

PRODUCTS = 150  # about 3,700 rows of state


@pytest.fixture
def cleanup(database_url: str) -> Iterator[None]:
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


Documents = dict[tuple[str, str, str], dict[str, Any]]


def _read_model(database_url: str, state_dir: Path) -> tuple[Documents, Documents]:
    products, content = table_documents(database_url), table_documents(database_url, "index_content")
    version = live_version(database_url, "product")
    assert tantivy_documents(state_dir / "index", "product", version) == products
    return products, content


def test_a_rebuild_served_from_the_state_file_builds_and_keeps_the_read_model_of_one_in_memory(
    database_url: str, tmp_path: Path, cleanup: None
) -> None:
    generate(database_url, PRODUCTS, seed=3)
    spilled = PipelineOptions(database_url=database_url, state_dir=tmp_path / "spilled", slot_name="spilled",
                              state_memory_rows=1_500)
    with EmbeddedPipeline(spilled):
        caught_up(database_url)
        built = _read_model(database_url, spilled.state_dir)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE commerce_category_translations SET name = name || ' (renamed)'")
            conn.execute("UPDATE commerce_products SET status = 'archived' WHERE id = "
                         "(SELECT id FROM commerce_products WHERE status = 'published' ORDER BY id LIMIT 1)")
        caught_up(database_url)
        streamed = _read_model(database_url, spilled.state_dir)
    store = SqliteStateStore(spilled.state_file, memory_rows=1_500)
    try:
        assert not store.in_memory and len(store) > 3_000  # it did outgrow memory
    finally:
        store.close()
    products, _ = streamed
    assert sum("(renamed)" in str(doc.get("category_names")) for doc in products.values()) > PRODUCTS
    assert streamed != built

    in_memory = PipelineOptions(database_url=database_url, state_dir=tmp_path / "memory", slot_name="memory")
    with EmbeddedPipeline(in_memory):
        caught_up(database_url)
        assert live_version(database_url, "product") == 2
        assert _read_model(database_url, in_memory.state_dir) == streamed
