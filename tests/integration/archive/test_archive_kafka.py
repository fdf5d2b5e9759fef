"""`rustok archive --kafka`: the Debezium topics of a real broker, consumer group
``rustok-archive``. The embedded connector publishes Debezium-identical records in
Debezium's place (its conformance is tested elsewhere)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from connectors.embedded import ConnectorConfig, EmbeddedConnector
from connectors.embedded.kafka import KafkaChangeConsumer
from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from rustok.archive import (
    EmbeddedArchiveOptions, KafkaArchiveOptions, archive_embedded, archive_kafka, replay_archive)
from rustok.archive.rows import identity
from tests.integration.archive.changes import (
    add_product, add_tenant, archived_rows, rename, version_documents)

pytestmark = pytest.mark.kafka


def publish(connector: EmbeddedConnector, kafka: KafkaChangeConsumer, before: int | None) -> int:
    """Poll until the broker acknowledged something past ``before`` and nothing more arrives
    for a second (other databases of the shared server move the WAL, so no exact target)."""
    deadline = time.monotonic() + 30
    settled_at = time.monotonic()
    last = kafka.durable_lsn()
    while True:
        assert time.monotonic() < deadline, "the changes reached Kafka"
        connector.poll(0.2)
        durable = kafka.durable_lsn()
        if durable != last:
            last, settled_at = durable, time.monotonic()
        elif last is not None and last > (before or 0) and time.monotonic() - settled_at > 1.0:
            return last


def test_the_kafka_archive_holds_every_change_event_resumes_from_its_offsets_and_rebuilds_the_same_model(
    kafka_runtime: KafkaRuntime, database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    prefix = f"arch{uuid.uuid4().hex[:8]}"  # the broker is shared by the session's tests
    demo.seed_demo(engine)
    embedded = EmbeddedArchiveOptions(database_url, tmp_path / "embedded")
    archive_embedded(embedded)
    kafka = KafkaChangeConsumer(kafka_runtime.bootstrap_servers, topic_prefix=prefix)
    connector = EmbeddedConnector(ConnectorConfig(dsn=database_url, topic_prefix=prefix, slot_name="to_kafka"), kafka)
    options = KafkaArchiveOptions(kafka_runtime.bootstrap_servers, tmp_path / "kafka", topic_prefix=prefix)
    try:
        connector.start()
        snapshot = publish(connector, kafka, None)
        with psycopg.connect(database_url, autocommit=True) as conn:
            acme = add_tenant(conn, "acme")
            add_product(conn, acme, "kettle", "Kettle")
        after_first = publish(connector, kafka, snapshot)
        first = archive_kafka(options)
        with psycopg.connect(database_url, autocommit=True) as conn:
            rename(conn, demo.demo_id("product", "linen-shirt"), "Linen via Kafka")
            conn.execute("DELETE FROM commerce_product_tags WHERE product_id = %s",
                         (demo.demo_id("product", "linen-shirt"),))
        publish(connector, kafka, after_first)
        second = archive_kafka(options)
    finally:
        connector.close()
        kafka.close()
    archive_embedded(embedded)

    rows = archived_rows(options.directory)
    # The second run reads on from its offsets: only the rename and the tag deletes.
    assert set(second.per_table) == {"commerce_product_translations", "commerce_product_tags"}
    assert second.per_table["commerce_product_translations"] == 1
    assert first.events + second.events == len(rows)
    assert all(row["topic"] == f"{prefix}.public.{row['table']}" and row["offset"] is not None for row in rows)
    streamed = {identity(row) for row in rows if row["snapshot"] is None}
    in_slot = {identity(row) for row in archived_rows(embedded.directory) if row["snapshot"] is None}
    assert streamed == in_slot and len(streamed) == sum(1 for row in rows if row["snapshot"] is None)

    from_kafka = replay_archive(database_url, options.directory, None, tmp_path / "index")
    from_slot = replay_archive(database_url, embedded.directory, None, tmp_path / "index")
    for doc_type in ("product", "content"):
        kafka_docs = version_documents(database_url, doc_type, from_kafka.versions[doc_type])
        assert kafka_docs and kafka_docs == version_documents(database_url, doc_type, from_slot.versions[doc_type])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
