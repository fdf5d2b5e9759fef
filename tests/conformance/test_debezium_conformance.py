"""Conformance: the embedded connector emits the change events real Debezium 3.2.7 emits.

One database migrated to head and seeded with the demo data is captured twice, by
Debezium on Kafka Connect (slot ``rustok_debezium``) and by the embedded connector
(slot ``rustok_embedded``); both snapshot the seeded rows, then one fixed script of real
writes runs, and the two streams are compared topic by topic, record by record, after
removing only the fields listed in :data:`STRIPPED` (with the reason for each).

The embedded connector's records are compared twice: as its in-process consumer got
them, and as its Kafka output (``KafkaChangeConsumer``, written under topics prefixed
``embedded-`` so they do not mix with Debezium's) — where the outbox is routed like
Debezium's Outbox Event Router, so that path has no outbox difference at all.
"""

from __future__ import annotations

import difflib
import json
import pprint
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from connectors import debezium_registration as registration
from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, InMemoryConsumer
from connectors.embedded.kafka import KafkaChangeConsumer, OutboxRoute
from connectors.kafka_runtime import KafkaRuntime
from migrations import runner
from rustok.demo import TENANT_ID, seed_demo

with warnings.catch_warnings():
    # kafka-python still uses importlib.resources' deprecated read_text/open_text.
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

pytestmark = pytest.mark.kafka

PREFIX = "rustok"
DEBEZIUM_SLOT = "rustok_debezium"
EMBEDDED_SLOT = "rustok_embedded"
CONNECTOR_NAME = "rustok-conformance"
TRANSACTION_TOPIC = f"{PREFIX}.transaction"
OUTBOX_TOPIC = f"{PREFIX}.public.outbox"
SENTINEL_SLUG = "conformance-sentinel"
SENTINEL_TOPIC = f"{PREFIX}.public.commerce_tags"
EMBEDDED_KAFKA = "embedded-"  # where the embedded connector's Kafka output goes in this test

# Fields removed before comparing, and why. Nothing else is stripped: streamed events of
# both connectors come from the same WAL, so their lsn, txId, sequence, source ts_* (the
# commit time) and transaction ids must be equal and are compared.
STRIPPED: dict[str, str] = {
    "ts_ms/ts_us/ts_ns (top level of change events)": (
        "processing time: when each connector built the event, not a property of the change"
    ),
    "source.lsn, source.sequence, source.txId, source.ts_ms/ts_us/ts_ns of snapshot reads (op r)": (
        "each connector snapshots from its own slot's consistent point, so the two snapshots "
        "have different LSNs, snapshot transactions and snapshot times"
    ),
}


# -- Debezium through Kafka ---------------------------------------------------------------

class Tee:
    """The embedded connector's records to memory and to Kafka; durable once in Kafka."""

    def __init__(self, memory: InMemoryConsumer, kafka: KafkaChangeConsumer) -> None:
        self.memory, self.kafka = memory, kafka

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        self.kafka.deliver(batch)
        self.memory.deliver(batch)

    def durable_lsn(self) -> int | None:
        return self.kafka.durable_lsn()


def _read_raw(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    consumer = _kafka_consumer(bootstrap)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        out: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
        deadline = time.monotonic() + 30
        while consumer.position(partition) < end:
            assert time.monotonic() < deadline, f"{topic} not read to its end"
            for batch in consumer.poll(timeout_ms=300).values():
                out += [(m.key, m.value, list(m.headers)) for m in batch]
        return out
    finally:
        consumer.close()


def _json(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def _kafka_consumer(bootstrap: str) -> Any:
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)


def _read_topics(bootstrap: str, topics: list[str]) -> dict[str, list[tuple[Any, Any]]]:
    """Every record of ``topics`` (partition 0) from the beginning to their current end."""
    consumer = _kafka_consumer(bootstrap)
    try:
        partitions = [TopicPartition(topic, 0) for topic in topics]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        out: dict[str, list[tuple[Any, Any]]] = {topic: [] for topic in topics}
        deadline = time.monotonic() + 60
        while any(consumer.position(p) < ends[p] for p in partitions):
            assert time.monotonic() < deadline, "Kafka topics not read to their end in 60s"
            for partition, batch in consumer.poll(timeout_ms=500).items():
                out[partition.topic] += [(_json(m.key), _json(m.value)) for m in batch]
        return out
    finally:
        consumer.close()


def _matching_topics(bootstrap: str) -> list[str]:
    consumer = _kafka_consumer(bootstrap)
    try:
        return sorted(t for t in consumer.topics() if t.startswith(f"{PREFIX}.public.") or t == TRANSACTION_TOPIC)
    finally:
        consumer.close()


def _embedded_kafka_topics(bootstrap: str) -> list[str]:
    consumer = _kafka_consumer(bootstrap)
    try:
        return sorted(t for t in consumer.topics() if t.startswith(EMBEDDED_KAFKA))
    finally:
        consumer.close()


def _wait_debezium_sentinel(bootstrap: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        topics = _matching_topics(bootstrap)
        if SENTINEL_TOPIC in topics:
            records = _read_topics(bootstrap, [SENTINEL_TOPIC])[SENTINEL_TOPIC]
            if any(v and v.get("after") and v["after"].get("slug") == SENTINEL_SLUG for _, v in records):
                return
        assert time.monotonic() < deadline, "Debezium did not deliver the sentinel write"
        time.sleep(0.5)


# -- the fixed script of writes ------------------------------------------------------------

BIG_BODY_SQL = "(SELECT string_agg(md5(i::text) || ' Привет 🚀 ', '') FROM generate_series(1, 2500) AS i)"


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def apply_writes(url: str) -> str:
    """Run the fixed script of writes; return the outbox aggregate type it used."""
    tenant = TENANT_ID
    with psycopg.connect(url, autocommit=True) as conn:
        product = _one(conn, "SELECT id FROM commerce_products WHERE tenant_id = %s ORDER BY handle LIMIT 1", (tenant,))
        variant = _one(conn, "SELECT id FROM commerce_variants WHERE product_id = %s ORDER BY id LIMIT 1", (product,))
        node = _one(conn, "SELECT id FROM nodes WHERE tenant_id = %s ORDER BY id LIMIT 1", (tenant,))
        price = _one(conn, "SELECT id FROM commerce_prices WHERE variant_id = %s ORDER BY id LIMIT 1", (variant,))

        # Inserts with unicode, NULLs, jsonb, booleans.
        new_product = uuid.uuid4()
        conn.execute(
            "INSERT INTO commerce_products (id, tenant_id, handle, status, vendor, product_type, discountable,"
            " metadata, published_at, created_at, updated_at) VALUES (%s, %s, 'conformance-tee', 'published',"
            " 'Фабрика 🧵', NULL, false, %s, '2026-02-03 04:05:06.789123+03', '2026-02-01T00:00:00Z',"
            " '2026-02-01T00:00:00Z')",
            (new_product, tenant, json.dumps({"цвет": "красный", "emoji": "🎨", "n": 1.5, "nested": {"b": [1, None]}})),
        )
        conn.execute(
            "INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title, description)"
            " VALUES (%s, %s, %s, 'ru', 'Футболка «Соответствие» 👕', NULL)",
            (uuid.uuid4(), tenant, new_product),
        )
        # Updates: jsonb, timestamptz, booleans, NULLs, bigint money, char(3).
        conn.execute(
            "UPDATE commerce_products SET metadata = metadata || '{\"featured\": true}'::jsonb, discountable = true,"
            " vendor = NULL, published_at = '2026-03-04 05:06:07.000001+00', updated_at = '2026-03-04T05:06:07Z'"
            " WHERE id = %s",
            (new_product,),
        )
        conn.execute(
            "UPDATE commerce_prices SET amount = 9223372036854775000, compare_at_amount = NULL, currency_code = 'JPY',"
            " updated_at = '2026-03-05T00:00:00Z' WHERE id = %s",
            (price,),
        )
        # TOAST: a ~100 KB body, then an update that leaves it alone, then one that changes it.
        body = uuid.uuid4()
        conn.execute(
            "INSERT INTO node_bodies (id, tenant_id, node_id, locale, body, format, updated_at)"
            f" VALUES (%s, %s, %s, 'fr', {BIG_BODY_SQL}, 'markdown', '2026-03-06T00:00:00Z')",
            (body, tenant, node),
        )
        conn.execute("UPDATE node_bodies SET format = 'html' WHERE id = %s", (body,))
        conn.execute("UPDATE node_bodies SET body = body || ' — конец ✅' WHERE id = %s", (body,))
        # Deletes (each followed by a tombstone).
        conn.execute("DELETE FROM node_bodies WHERE id = %s", (body,))
        # A multi-statement transaction over several tables.
        with conn.transaction():
            order = uuid.uuid4()
            conn.execute(
                "INSERT INTO commerce_orders (id, tenant_id, number, email, status, currency_code, subtotal, tax_total,"
                " shipping_total, discount_total, total, shipping_address, billing_address, metadata, created_at,"
                " updated_at) VALUES (%s, %s, 900001, 'покупатель@пример.рф', 'paid', 'EUR', 4980, 0, 500, 0, 5480,"
                " %s, NULL, '{}', '2026-03-07T10:00:00.5+01', '2026-03-07T10:00:00.5+01')",
                (order, tenant, json.dumps({"city": "Москва", "line1": "ул. Тверская, 1", "note": "🚪"})),
            )
            conn.execute(
                "INSERT INTO commerce_order_lines (id, tenant_id, order_id, product_id, variant_id, sku, title,"
                " quantity, currency_code, unit_price, total) VALUES (%s, %s, %s, %s, %s, NULL, 'Футболка', 2, 'EUR',"
                " 2490, 4980)",
                (uuid.uuid4(), tenant, order, product, variant),
            )
            conn.execute(
                "UPDATE commerce_inventory_levels SET reserved_quantity = reserved_quantity + 1,"
                " updated_at = '2026-03-07T09:00:00Z' WHERE variant_id = %s AND stocked_quantity > reserved_quantity",
                (variant,),
            )
            conn.execute("UPDATE tenants SET settings = settings || %s::jsonb WHERE id = %s",
                         (json.dumps({"orders": {"last": 900001}}), tenant))
        conn.execute("DELETE FROM commerce_products WHERE id = %s", (new_product,))  # cascades to its translation
        # TRUNCATE of a captured table.
        conn.execute("TRUNCATE commerce_product_tags")
        # An outbox insert (Debezium routes it with the Outbox Event Router).
        conn.execute(
            "INSERT INTO outbox (id, tenant_id, aggregatetype, aggregateid, type, payload, request_id, created_at)"
            " VALUES (%s, %s, 'conformance', %s, 'OrderPaid', %s, NULL, '2026-03-08T00:00:00Z')",
            (uuid.uuid4(), tenant, str(order), json.dumps({"order": str(order), "total": 5480})),
        )
        # The sentinel: the last write of the script.
        conn.execute(
            "INSERT INTO commerce_tags (id, tenant_id, slug, name) VALUES (%s, %s, %s, 'Sentinel')",
            (uuid.uuid4(), tenant, SENTINEL_SLUG),
        )
    return "conformance"


# -- normalization and comparison ------------------------------------------------------------

def normalize(record: tuple[Any, Any]) -> tuple[Any, Any]:
    key, value = record
    if value is None:
        return key, None
    value = json.loads(json.dumps(value))
    if "op" in value:
        for field in ("ts_ms", "ts_us", "ts_ns"):
            value.pop(field, None)
        if value["op"] == "r":
            for field in ("lsn", "sequence", "txId", "ts_ms", "ts_us", "ts_ns"):
                value["source"].pop(field, None)
    return key, value


def _diff(topic: str, debezium: list[Any], embedded: list[Any]) -> str:
    left = pprint.pformat(debezium, width=120).splitlines()
    right = pprint.pformat(embedded, width=120).splitlines()
    lines = list(difflib.unified_diff(left, right, "debezium", "embedded", lineterm="", n=2))
    return f"{topic}:\n" + "\n".join(lines[:200])


# -- the test ----------------------------------------------------------------------------------

def test_embedded_connector_emits_what_debezium_emits(
    kafka_runtime: KafkaRuntime, database_url: str, admin_url: str
) -> None:
    started = time.monotonic()
    engine = sa.create_engine(runner.sqlalchemy_url(database_url))
    try:
        seed_demo(engine)
    finally:
        engine.dispose()

    bootstrap = kafka_runtime.bootstrap_servers
    config = registration.without_heartbeat_action(registration.load_config(
        topic_prefix=PREFIX, **registration.connection_settings(database_url), **{"slot.name": DEBEZIUM_SLOT}))
    registration.register(kafka_runtime.connect_url, config, name=CONNECTOR_NAME, timeout=120)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (DEBEZIUM_SLOT,)
            ).fetchone():
                assert time.monotonic() < deadline, "Debezium did not create its slot"
                time.sleep(0.2)

        consumer = InMemoryConsumer()
        kafka_out = KafkaChangeConsumer(
            bootstrap, topic_prefix=PREFIX, outbox=OutboxRoute.from_config(config), heartbeat_interval=0,
            topic_for=lambda topic: EMBEDDED_KAFKA + topic,
        )
        embedded = EmbeddedConnector(ConnectorConfig(dsn=database_url, slot_name=EMBEDDED_SLOT),
                                     Tee(consumer, kafka_out))
        with embedded, kafka_out:
            aggregate = apply_writes(database_url)
            deadline = time.monotonic() + 60
            while not any(
                r.topic == SENTINEL_TOPIC and r.value and (r.value.get("after") or {}).get("slug") == SENTINEL_SLUG
                for r in consumer.records
            ):
                assert time.monotonic() < deadline, "the embedded connector did not deliver the sentinel write"
                embedded.poll(0.5)
            for _ in range(3):  # the sentinel's END marker and anything still buffered
                embedded.poll(0.2)

        _wait_debezium_sentinel(bootstrap)
        time.sleep(1.0)  # let records of other partitions produced before the sentinel land
        topics = _matching_topics(bootstrap)
        from_kafka = _read_topics(bootstrap, topics)
        events_topic = f"{PREFIX}.events.{aggregate}"
        routed = _read_topics(bootstrap, [events_topic])[events_topic] if events_topic in _all_topics(bootstrap) else []
        routed_raw = _read_raw(bootstrap, events_topic)
        embedded_topics = _embedded_kafka_topics(bootstrap)
        embedded_kafka = {t[len(EMBEDDED_KAFKA):]: records for t, records in _read_topics(bootstrap, embedded_topics).items()}
        embedded_routed_raw = _read_raw(bootstrap, EMBEDDED_KAFKA + events_topic)
        headers = {
            topic: ([h for _, _, h in _read_raw(bootstrap, topic)], [h for _, _, h in _read_raw(bootstrap, EMBEDDED_KAFKA + topic)])
            for topic in (f"{PREFIX}.public.node_bodies", f"{PREFIX}.public.commerce_products", TRANSACTION_TOPIC)
        }
    finally:
        registration.delete(kafka_runtime.connect_url, CONNECTOR_NAME)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for slot in (DEBEZIUM_SLOT, EMBEDDED_SLOT):
                for _ in range(50):
                    try:
                        conn.execute(
                            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                            " WHERE slot_name = %s", (slot,))
                        break
                    except psycopg.errors.ObjectInUse:
                        time.sleep(0.2)

    from_embedded: dict[str, list[tuple[Any, Any]]] = {}
    for record in consumer.records:
        from_embedded.setdefault(record.topic, []).append((record.key, record.value))

    # The outbox: Debezium's Outbox Event Router moves it off the table topic. The
    # embedded connector's in-process consumer gets the table's records (the runner
    # routes them itself); its Kafka output routes them exactly as Debezium does.
    assert OUTBOX_TOPIC not in from_kafka
    assert [v["op"] for _, v in from_embedded.pop(OUTBOX_TOPIC)] == ["c"]
    assert len(routed) == 1 and routed[0][1] == {"order": routed[0][0], "total": 5480}
    assert OUTBOX_TOPIC not in embedded_kafka
    assert embedded_routed_raw == routed_raw  # key, value and headers, byte for byte
    for topic, (debezium_headers, embedded_headers) in headers.items():
        assert embedded_headers == debezium_headers, topic
    assert sorted(embedded_kafka) == sorted([*from_kafka, events_topic])
    kafka_failures = [
        _diff(f"{topic} (embedded via Kafka)", [normalize(r) for r in from_kafka[topic]],
              [normalize(r) for r in embedded_kafka[topic]])
        for topic in sorted(from_kafka)
        if [normalize(r) for r in from_kafka[topic]] != [normalize(r) for r in embedded_kafka[topic]]
    ]
    assert not kafka_failures, "\n\n".join(kafka_failures)

    assert sorted(from_kafka) == sorted(from_embedded), "different topics"
    assert sum(len(v) for v in from_kafka.values()) > 200  # the seeded snapshot plus the writes
    failures = []
    for topic in sorted(from_kafka):
        left = [normalize(r) for r in from_kafka[topic]]
        right = [normalize(r) for r in from_embedded[topic]]
        if left != right:
            failures.append(_diff(topic, left, right))
    assert not failures, "\n\n".join(failures)

    # The script did exercise what it claims to, as Debezium saw it.
    bodies = [v for _, v in from_kafka[f"{PREFIX}.public.node_bodies"] if v is None or v["op"] != "r"]
    assert [v and v["op"] for v in bodies] == ["c", "u", "u", "d", None]
    untouched = bodies[1]  # the update that leaves the TOASTed body alone
    assert len(untouched["after"]["body"]) > 100_000 and untouched["after"]["body"] == untouched["before"]["body"]
    truncate_key, truncate = from_kafka[f"{PREFIX}.public.commerce_product_tags"][-1]
    assert truncate_key is None and truncate["op"] == "t"
    # Stripping the snapshot's position is needed: the two slots' consistent points differ.
    snapshot_lsns = {
        side: {v["source"]["lsn"] for records in streams.values() for _, v in records if v and v.get("op") == "r"}
        for side, streams in (("debezium", from_kafka), ("embedded", from_embedded))
    }
    assert len(snapshot_lsns["debezium"]) == len(snapshot_lsns["embedded"]) == 1
    assert snapshot_lsns["debezium"] != snapshot_lsns["embedded"]
    assert time.monotonic() - started < 120


def _all_topics(bootstrap: str) -> set[str]:
    consumer = _kafka_consumer(bootstrap)
    try:
        return set(consumer.topics())
    finally:
        consumer.close()
