"""The local Kafka stack end to end: PostgreSQL → Debezium on Kafka Connect → Kafka topics.

Runs the real broker, Connect worker and Debezium connector from their Maven Central
jars against an embedded PostgreSQL listening on TCP, with our connector settings,
and checks what a consumer of the topics sees.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime
from rustok.postgres import EmbeddedPostgres, ensure_database

pytestmark = pytest.mark.kafka

TENANT = uuid.UUID("0190c5a4-8d4e-7c1e-9a4b-2f1c3d4e5f60")
SCHEMA = """
CREATE TABLE items (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL, price numeric(12, 2));
ALTER TABLE items REPLICA IDENTITY FULL;
CREATE TABLE outbox (
    id uuid PRIMARY KEY, tenant_id uuid NOT NULL, aggregatetype text NOT NULL,
    aggregateid text NOT NULL, type text NOT NULL, payload jsonb NOT NULL
);
ALTER TABLE outbox REPLICA IDENTITY FULL;
CREATE PUBLICATION rustok_cdc FOR TABLE items, outbox WITH (publish = 'insert, update, delete, truncate');
"""


@dataclass(frozen=True)
class Record:
    key: Any
    value: Any
    headers: dict[str, bytes]


@dataclass(frozen=True)
class Capture:
    database_url: str
    bootstrap_servers: str


@pytest.fixture(scope="module")
def capture(kafka_runtime: KafkaRuntime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capture]:
    """A database with ``items`` and ``outbox`` in the publication, captured by Debezium.

    One row exists before the connector is registered, so it arrives by snapshot.
    """
    server = EmbeddedPostgres(tmp_path_factory.mktemp("cdc") / "postgres", preferred_port=55442)
    info = server.start()
    try:
        ensure_database(info.url("postgres"), "shop")
        url = info.url("shop")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
            conn.execute("INSERT INTO items VALUES (1, %s, 'before the snapshot', 5.00)", (TENANT,))
        config = registration.load_config(tables=["items", "outbox"], **registration.connection_settings(url))
        registration.register(kafka_runtime.connect_url, config, timeout=120)
        try:
            yield Capture(url, kafka_runtime.bootstrap_servers)
        finally:
            registration.delete(kafka_runtime.connect_url)
    finally:
        server.destroy()


def execute(url: str, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Run ``statements`` in one transaction."""
    with psycopg.connect(url) as conn:
        for statement, params in statements:
            conn.execute(statement, params)


def read_until(
    bootstrap: str, topic: str, done: Callable[[list[Record]], bool], timeout: float = 60.0
) -> list[Record]:
    """Read ``topic`` from the beginning until ``done(records)`` holds."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while not done(records):
            assert time.monotonic() < deadline, f"{topic}: condition not met in {timeout}s; got {records}"
            for batch in consumer.poll(timeout_ms=500).values():
                records += [
                    Record(_json(message.key), _json(message.value), dict(message.headers)) for message in batch
                ]
        return records
    finally:
        consumer.close()


def _json(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def for_key(records: list[Record], key: dict[str, Any]) -> list[Record]:
    return [record for record in records if record.key == key]


def test_existing_rows_arrive_by_snapshot_as_reads(capture: Capture) -> None:
    records = read_until(capture.bootstrap_servers, "rustok.public.items", lambda rs: bool(for_key(rs, {"id": 1})))

    snapshot = for_key(records, {"id": 1})[0].value
    assert snapshot["op"] == "r"
    assert snapshot["before"] is None
    assert snapshot["after"] == {"id": 1, "tenant_id": str(TENANT), "name": "before the snapshot", "price": "5.00"}
    assert snapshot["source"]["snapshot"] == "last"  # the only row, so the last of the snapshot
    assert snapshot["transaction"] is None


def test_insert_update_delete_arrive_as_c_u_d_then_a_tombstone(capture: Capture) -> None:
    execute(capture.database_url, ("INSERT INTO items VALUES (2, %s, 'lamp', 19.90)", (TENANT,)))
    execute(capture.database_url, ("UPDATE items SET name = 'desk lamp' WHERE id = 2", ()))
    execute(capture.database_url, ("DELETE FROM items WHERE id = 2", ()))

    records = for_key(
        read_until(capture.bootstrap_servers, "rustok.public.items", lambda rs: len(for_key(rs, {"id": 2})) >= 4),
        {"id": 2},
    )

    created, updated, deleted, tombstone = records
    assert [created.value["op"], updated.value["op"], deleted.value["op"]] == ["c", "u", "d"]
    assert created.value["before"] is None
    assert created.value["after"] == {"id": 2, "tenant_id": str(TENANT), "name": "lamp", "price": "19.90"}
    assert updated.value["before"]["name"] == "lamp"  # REPLICA IDENTITY FULL: the old row comes along
    assert updated.value["after"]["name"] == "desk lamp"
    assert deleted.value["before"]["name"] == "desk lamp"
    assert deleted.value["after"] is None
    assert tombstone.value is None
    source = created.value["source"]
    assert (source["connector"], source["name"], source["db"], source["schema"], source["table"]) == (
        "postgresql", "rustok", "shop", "public", "items",
    )
    assert source["snapshot"] == "false"
    assert created.value["source"]["lsn"] < updated.value["source"]["lsn"] < deleted.value["source"]["lsn"]


def test_the_envelope_has_the_fields_of_debezium_3_2(capture: Capture) -> None:
    execute(capture.database_url, ("INSERT INTO items VALUES (6, %s, 'shelf', 12.5)", (TENANT,)))

    records = read_until(capture.bootstrap_servers, "rustok.public.items", lambda rs: bool(for_key(rs, {"id": 6})))

    event = for_key(records, {"id": 6})[0].value
    assert list(event) == ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
    source = event["source"]
    assert list(source) == [
        "version", "connector", "name", "ts_ms", "snapshot", "db", "sequence",
        "ts_us", "ts_ns", "schema", "table", "txId", "lsn", "xmin",
    ]
    assert source["version"] == "3.2.7.Final"
    assert source["ts_us"] // 1000 == source["ts_ms"] and source["ts_ns"] == source["ts_us"] * 1000
    last_commit, lsn = json.loads(source["sequence"])  # a JSON array of two strings, inside a string
    assert lsn == str(source["lsn"]) and (last_commit is None or int(last_commit) <= source["lsn"])
    assert event["transaction"]["id"] == f"{source['txId']}:{source['lsn']}"


def test_numeric_values_arrive_as_strings_with_their_scale(capture: Capture) -> None:
    execute(capture.database_url, ("INSERT INTO items VALUES (3, %s, 'cent', 0.1)", (TENANT,)))

    records = read_until(capture.bootstrap_servers, "rustok.public.items", lambda rs: bool(for_key(rs, {"id": 3})))

    assert for_key(records, {"id": 3})[0].value["after"]["price"] == "0.10"


def test_a_transaction_is_framed_by_begin_and_end_on_the_transaction_topic(capture: Capture) -> None:
    execute(
        capture.database_url,
        ("INSERT INTO items VALUES (4, %s, 'chair', 40)", (TENANT,)),
        ("INSERT INTO items VALUES (5, %s, 'table', 90)", (TENANT,)),
    )
    changes = read_until(
        capture.bootstrap_servers, "rustok.public.items", lambda rs: bool(for_key(rs, {"id": 5}))
    )
    first, second = for_key(changes, {"id": 4})[0].value, for_key(changes, {"id": 5})[0].value
    tx_id = first["source"]["txId"]
    assert second["source"]["txId"] == tx_id
    assert [first["transaction"]["total_order"], second["transaction"]["total_order"]] == [1, 2]

    def framed(records: list[Record]) -> list[Record]:
        # Other tests' servers reuse transaction ids on this broker's shared topic;
        # the commit time tells this server's transaction apart.
        return [r for r in records if r.value and r.value["id"].startswith(f"{tx_id}:")
                and r.value["ts_ms"] == first["source"]["ts_ms"]]

    markers = framed(read_until(capture.bootstrap_servers, "rustok.transaction", lambda rs: len(framed(rs)) >= 2))

    # Kafka Connect delivers at least once: a worker rebalance may repeat a marker.
    unique = list({json.dumps(m.value, sort_keys=True): m.value for m in markers}.values())
    assert len(unique) == 2, unique
    begin, end = unique
    assert (begin["status"], end["status"]) == ("BEGIN", "END")
    assert end["event_count"] == 2
    assert end["data_collections"] == [{"data_collection": "public.items", "event_count": 2}]


def test_an_outbox_row_is_routed_to_its_aggregate_topic_with_the_tenant_header(capture: Capture) -> None:
    event_id = uuid.uuid4()
    execute(
        capture.database_url,
        (
            "INSERT INTO outbox VALUES (%s, %s, 'product', 'p-42', 'ProductPublished', %s)",
            (event_id, TENANT, json.dumps({"sku": "LAMP-1", "price": {"amount": 1990, "currency": "EUR"}})),
        ),
        # The usual outbox hygiene: the row goes in the same transaction it was written in.
        ("DELETE FROM outbox WHERE id = %s", (event_id,)),
    )

    records = read_until(capture.bootstrap_servers, "rustok.events.product", lambda rs: len(rs) >= 1)

    (event,) = records
    assert event.key == "p-42"
    assert event.value == {"sku": "LAMP-1", "price": {"amount": 1990, "currency": "EUR"}}
    assert event.headers["tenant_id"] == str(TENANT).encode()
    assert event.headers["id"] == str(event_id).encode()
    assert event.headers["type"] == b"ProductPublished"


def test_the_connector_is_still_running_after_all_of_it(capture: Capture, kafka_runtime: KafkaRuntime) -> None:
    assert registration.wait_running(kafka_runtime.connect_url, timeout=30).running


def test_the_runtime_reports_both_processes_ready(kafka_runtime: KafkaRuntime) -> None:
    status = kafka_runtime.status()

    assert status.ready
    assert status.broker.pid and status.connect.pid
    assert status.bootstrap_servers == kafka_runtime.bootstrap_servers
    assert status.connect.log_file.exists()
