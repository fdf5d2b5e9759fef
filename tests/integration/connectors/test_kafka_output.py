"""The embedded connector writing to a real Kafka broker in Debezium's place."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from connectors import debezium_registration as registration
from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, InMemoryConsumer
from connectors.embedded.kafka import KafkaChangeConsumer, OutboxRoute, context_headers
from connectors.embedded.lag import confirmed_flush_lsn
from connectors.kafka_runtime import KafkaRuntime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

pytestmark = pytest.mark.kafka

TENANT = uuid.UUID("0190c5a4-8d4e-7c1e-9a4b-2f1c3d4e5f60")
OUTBOX = """
CREATE TABLE outbox (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, aggregatetype text NOT NULL,
                     aggregateid text NOT NULL, type text NOT NULL, payload jsonb NOT NULL);
ALTER TABLE outbox REPLICA IDENTITY FULL;
ALTER PUBLICATION rustok_cdc ADD TABLE outbox;
"""


class Tee:
    """Hands every batch to both consumers; durable where both are."""

    def __init__(self, memory: InMemoryConsumer, kafka: KafkaChangeConsumer) -> None:
        self.memory, self.kafka = memory, kafka

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        self.kafka.deliver(batch)
        self.memory.deliver(batch)

    def durable_lsn(self) -> int | None:
        return self.kafka.durable_lsn()


def read_all(bootstrap: str, topics: list[str], until: int, timeout: float = 30.0) -> dict[str, list[Any]]:
    """Records of ``topics`` (partition 0) from the beginning until ``until`` were read."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, 0) for t in topics]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        out: dict[str, list[Any]] = {t: [] for t in topics}
        deadline = time.monotonic() + timeout
        while sum(len(v) for v in out.values()) < until:
            assert time.monotonic() < deadline, f"only {sum(len(v) for v in out.values())} of {until} records"
            for partition, messages in consumer.poll(timeout_ms=300).items():
                out[partition.topic] += messages
        return out
    finally:
        consumer.close()


def _json(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def test_records_in_kafka_equal_what_the_in_memory_consumer_received_with_the_outbox_routed(
    kafka_runtime: KafkaRuntime, cdc_url: str
) -> None:
    prefix = f"kout{uuid.uuid4().hex[:8]}"  # the broker is shared by the session's tests
    with psycopg.connect(cdc_url, autocommit=True) as conn:
        conn.execute(OUTBOX)
        conn.execute("INSERT INTO items VALUES (1, 'snapshotted', 1)")
    route = OutboxRoute.from_config(registration.load_config(topic_prefix=prefix))
    memory = InMemoryConsumer()
    kafka = KafkaChangeConsumer(kafka_runtime.bootstrap_servers, topic_prefix=prefix, outbox=route,
                                heartbeat_interval=0.3)
    event_id = uuid.uuid4()
    connector = EmbeddedConnector(ConnectorConfig(dsn=cdc_url, topic_prefix=prefix, slot_name="kout"), Tee(memory, kafka))
    try:
        connector.start()
        with psycopg.connect(cdc_url, autocommit=True) as conn:
            conn.execute("INSERT INTO items VALUES (2, 'Лампа \"desk\" 🚀\n', NULL)")
            conn.execute("UPDATE items SET qty = 5 WHERE id = 2")
            conn.execute("DELETE FROM items WHERE id = 1")
            with conn.transaction():
                conn.execute("INSERT INTO outbox VALUES (%s, %s, 'product', 'p-42', 'ProductPublished', %s)",
                             (event_id, TENANT, json.dumps({"sku": "LAMP-1", "price": {"amount": 1990}, "w": 0.5})))
                conn.execute("DELETE FROM outbox WHERE id = %s", (event_id,))
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        deadline = time.monotonic() + 20
        while sum(1 for r in memory.records if r.value and r.value.get("status") == "END") < 4:
            assert time.monotonic() < deadline
            connector.poll(0.3)
        last_commit = max(r.commit_lsn for r in memory.records if r.commit_lsn is not None)
        assert kafka.durable_lsn() == last_commit  # acknowledged by the broker, then reported
        time.sleep(0.8)  # a couple of heartbeats
    finally:
        connector.close()
        kafka.close()
    assert row is not None

    expected: dict[str, list[tuple[Any, Any]]] = {}
    for record in memory.records:
        expected.setdefault(record.topic, []).append((record.key, record.value))
    outbox_topic, events_topic = f"{prefix}.public.outbox", f"{prefix}.events.product"
    assert [v and v["op"] for _, v in expected.pop(outbox_topic)] == ["c", "d", None]
    heartbeat_topic = f"__debezium-heartbeat.{prefix}"
    topics = sorted(expected) + [events_topic, heartbeat_topic]
    got = read_all(kafka_runtime.bootstrap_servers, topics, sum(len(v) for v in expected.values()) + 2)

    for topic, records in expected.items():
        assert [(_json(m.key), _json(m.value)) for m in got[topic]] == records, topic
    items = got[f"{prefix}.public.items"]
    assert [_json(m.value) and _json(m.value)["op"] for m in items] == ["r", "c", "u", "d", None]
    assert items[-1].value is None and _json(items[-1].key) == {"id": 1}  # the tombstone
    # Byte for byte as Jackson writes it: compact, UTF-8 kept, \n and \" escaped.
    assert b'"name":"\xd0\x9b\xd0\xb0\xd0\xbc\xd0\xbf\xd0\xb0 \\"desk\\" \xf0\x9f\x9a\x80\\n"' in items[1].value

    (event,) = got[events_topic]
    assert event.key == b'"p-42"'
    assert event.value == b'{"w":0.5,"sku":"LAMP-1","price":{"amount":1990}}'  # jsonb: shorter keys first
    assert event.headers == [*context_headers(prefix), ("id", str(event_id).encode()),
                             ("tenant_id", str(TENANT).encode()), ("type", b"ProductPublished")]
    beats = got[heartbeat_topic]
    assert beats and _json(beats[0].key) == {"serverName": prefix}
    assert list(_json(beats[0].value)) == ["ts_ms"]


def test_a_restarted_kafka_consumer_resumes_from_the_slot_without_a_new_snapshot(
    kafka_runtime: KafkaRuntime, cdc_url: str
) -> None:
    prefix = f"kres{uuid.uuid4().hex[:8]}"
    config = ConnectorConfig(dsn=cdc_url, topic_prefix=prefix, slot_name="kres")

    def run_once(resume_from: int | None, item: int, transactions: int) -> EmbeddedConnector:
        with KafkaChangeConsumer(kafka_runtime.bootstrap_servers, topic_prefix=prefix, heartbeat_interval=0,
                                 resume_from=resume_from) as kafka:
            connector = EmbeddedConnector(config, kafka)
            with connector:
                with psycopg.connect(cdc_url, autocommit=True) as conn:
                    conn.execute("INSERT INTO items VALUES (%s, 'x', 1)", (item,))
                deadline, delivered = time.monotonic() + 20, 0
                while delivered < transactions:
                    assert time.monotonic() < deadline, "the inserts were not delivered"
                    delivered += connector.poll(0.3)
            return connector

    with psycopg.connect(cdc_url, autocommit=True) as conn:
        conn.execute("INSERT INTO items VALUES (1, 'snapshotted', 1)")
    first = run_once(None, 2, 1)
    assert first.snapshot_result is not None
    with psycopg.connect(cdc_url, autocommit=True) as conn:
        conn.execute("INSERT INTO items VALUES (3, 'while stopped', 1)")
        position = confirmed_flush_lsn(conn, "kres")
    second = run_once(position, 4, 2)
    assert second.snapshot_result is None

    got = read_all(kafka_runtime.bootstrap_servers, [f"{prefix}.public.items"], 4)
    assert [(_json(m.key)["id"], _json(m.value)["op"]) for m in got[f"{prefix}.public.items"]] == [
        (1, "r"), (2, "c"), (3, "c"), (4, "c"),
    ]
