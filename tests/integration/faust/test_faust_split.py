"""The two stages in two worker processes (``RUSTOK_FAUST_ROLE=project`` and ``index``): the
demo catalogue reaches both sinks, and a commit token is reached, only once its documents
are visible, through the project process's committed offsets."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from tests.integration.faust.harness import Debezium, Worker, applied_lsn, running, unique, wait_for, wal_position
from tests.integration.runtime.readmodel import table_documents, tantivy_documents

pytestmark = pytest.mark.kafka

PIPELINE = "faust-split"


def test_split_project_and_index_processes_build_the_catalogue_and_reach_a_token_only_after_its_documents(
    kafka_runtime: KafkaRuntime, module_database_url: str, module_engine: sa.Engine, debezium: Debezium,
    module_dir: Path,
) -> None:
    demo.seed_demo(module_engine)
    url = module_database_url
    settings = {"broker": kafka_runtime.bootstrap_servers, "topic_prefix": debezium.prefix, "database_url": url,
                "index_dir": str(module_dir / "index"), "app_id": unique("faust-split-"), "slot_name": debezium.slot,
                "index_version": "1", "pipeline": PIPELINE}
    project = Worker(module_dir / "project", {**settings, "role": "project"})
    index = Worker(module_dir / "index-worker", {**settings, "role": "index"})
    product = str(demo.demo_id("product", "travel-mug"))
    with running(project), running(index):
        wait_for(lambda: applied_lsn(url, PIPELINE) > 0 and any(key[2] == product for key in table_documents(url)),
                 120, "the snapshot applied")
        assert project.alive() and index.alive(), project.log_tail() + index.log_tail()
        rows = table_documents(url)
        assert any(key[2] == product for key in rows)
        assert tantivy_documents(module_dir / "index", "product", 1) == rows
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE commerce_product_translations SET title = 'Split Mug' WHERE product_id = %s"
                         " AND locale = 'en'", (product,))
            token = wal_position(conn)
        wait_for(lambda: applied_lsn(url, PIPELINE) >= token, 30, "the checkpoint reaches the token", interval=0.01)
        tenant = str(demo.TENANT_ID)
        assert table_documents(url)[(tenant, "en", product)]["title"] == "Split Mug"
        assert tantivy_documents(module_dir / "index", "product", 1)[(tenant, "en", product)]["title"] == "Split Mug"
        assert "stage=\"project_batches\"" not in index.metrics() and "stage=\"index_batches\"" not in project.metrics()
