"""The embedded connector against a real PostgreSQL 16 (pgserver binaries, own cluster).

Every test gets its own database, publication and slot; the slot is dropped before the
database so the cluster stays clean.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.embedded import (
    ConnectorConfig,
    EmbeddedConnector,
    InMemoryConsumer,
    PublicationMissing,
    SlotInUse,
)
from connectors.embedded.records import ChangeRecord
from rustok.postgres import EmbeddedPostgres, ServerInfo, drop_database, ensure_database
from tests.waiting import wait_for

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE kinds (
    id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(10,2), nv numeric,
    t text, vc varchar(20), c char(5), u uuid, j json, jb jsonb, by bytea, d date, tm time, tm3 time(3),
    ttz timetz, ts timestamp, ts3 timestamp(3), tstz timestamptz, tstz0 timestamptz(0), iv interval,
    ia int[], ta text[], m mood, ip inet, net cidr, mac macaddr, bits bit(3), vb varbit, tsv tsvector,
    r int4range, lsn pg_lsn, big text
);
ALTER TABLE kinds ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int);
CREATE TABLE empty_table (id int PRIMARY KEY);
CREATE TABLE notes (body text);
ALTER TABLE kinds REPLICA IDENTITY FULL;
ALTER TABLE items REPLICA IDENTITY FULL;
ALTER TABLE empty_table REPLICA IDENTITY FULL;
ALTER TABLE notes REPLICA IDENTITY FULL;
CREATE PUBLICATION rustok_cdc FOR TABLE kinds, items, empty_table, notes;
"""

KINDS_VALUES = """
(%s, true, -32768, 2147483647, 9223372036854775807, 'NaN', 4.44, 1234.5, 0.0000001, 'žš ✓ 🚀', '', 'ab',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": 2}', '{"b": 1,  "a": 2}', '\\x00ff', '0044-03-15 BC',
 '13:51:30.123456', '13:51:30.123', '13:51:30.5+02', '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.123',
 '2016-11-04 13:51:30.12+02', '2016-11-04 13:51:30+00', '1 year 2 mons 3 days 04:05:06.78', '{1,NULL,3}',
 '{"a b",NULL,"c\\"d"}', 'happy', '192.168.2.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'101', B'11',
 'fat cat', '[1,5)', '16/B374D848', repeat('t', 3000))
"""

EXPECTED_KINDS: dict[str, Any] = {
    "b": True, "i2": -32768, "i4": 2147483647, "i8": 9223372036854775807, "f4": "NaN", "f8": 4.44, "n": "1234.50",
    "nv": "1E-7", "t": "žš ✓ 🚀", "vc": "", "c": "ab   ", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "j": '{"b": 1,  "a": 2}', "jb": '{"a": 2, "b": 1}', "by": "AP8=", "d": -735_160,
    "tm": 49_890_123_456, "tm3": 49_890_123, "ttz": "11:51:30.5Z", "ts": 1_478_267_490_123_456,
    "ts3": 1_478_267_490_123, "tstz": "2016-11-04T11:51:30.120000Z", "tstz0": "2016-11-04T13:51:30Z",
    "iv": 37_091_106_780_000, "ia": [1, None, 3], "ta": ["a b", None, 'c"d'], "m": "happy", "ip": "192.168.2.1/24",
    "net": "10.0.0.0/8", "mac": "08:00:2b:01:02:03", "bits": "BQ==", "vb": "Aw==", "tsv": "'cat' 'fat'",
    "r": "[1,5)", "big": "t" * 3000,
}  # lsn (pg_lsn) has no Debezium schema: the column is left out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    cluster = EmbeddedPostgres(Path(tmp_path_factory.mktemp("embedded-cdc")) / "pg", preferred_port=_free_port())
    info = cluster.start()
    yield info
    cluster.destroy()


@pytest.fixture
def dsn(server: ServerInfo, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "cdc_" + request.node.name.lower().replace("test_", "")[:40]
    admin = server.url("postgres")
    drop_database(admin, name)
    ensure_database(admin, name)
    url = server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = %s", (name,))
    drop_database(admin, name)


def sql(dsn: str, *statements: str, params: tuple[Any, ...] = ()) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement, params if "%s" in statement else None)


def connector(dsn: str, consumer: InMemoryConsumer, slot: str = "embedded_test") -> EmbeddedConnector:
    return EmbeddedConnector(ConnectorConfig(dsn=dsn, slot_name=slot), consumer)


def poll_until(conn: EmbeddedConnector, consumer: InMemoryConsumer, transactions: int, tries: int = 20) -> list[ChangeRecord]:
    """Poll until ``transactions`` more END markers arrived; return the new records."""
    start = len(consumer.records)
    for _ in range(tries):
        conn.poll(0.5)
        new = consumer.records[start:]
        if sum(1 for r in new if r.value is not None and r.value.get("status") == "END") >= transactions:
            return new
    raise AssertionError(f"expected {transactions} transactions, got {consumer.records[start:]}")


def changes(records: list[ChangeRecord]) -> list[ChangeRecord]:
    return [r for r in records if r.topic != "rustok.transaction"]


def test_snapshot_then_stream_emit_debezium_events_for_every_column_type(dsn: str) -> None:
    sql(dsn, "INSERT INTO kinds VALUES " + KINDS_VALUES, params=(1,))
    sql(dsn, "INSERT INTO items VALUES (1, 'one', 1), (2, 'two', NULL)")
    consumer = InMemoryConsumer()
    with connector(dsn, consumer) as conn:
        snapshot = consumer.records
        assert [(r.topic, r.key) for r in snapshot] == [
            ("rustok.public.items", {"id": 1}), ("rustok.public.items", {"id": 2}), ("rustok.public.kinds", {"id": 1}),
        ]
        markers = [r.value["source"]["snapshot"] for r in snapshot if r.value]
        # Tables go in table-id order: empty_table (empty, so no "first"), items, kinds,
        # notes (empty: the buffered last record is re-marked "last").
        assert markers == ["first_in_data_collection", "last_in_data_collection", "last"]
        kinds = snapshot[2].value
        assert kinds is not None and kinds["op"] == "r" and kinds["transaction"] is None
        assert kinds["after"] == {"id": 1, **EXPECTED_KINDS}
        source = kinds["source"]
        assert source["lsn"] == snapshot[2].lsn == snapshot[2].commit_lsn
        assert source["sequence"] == f'[null,"{source["lsn"]}"]' and isinstance(source["txId"], int)
        assert source["ts_ms"] == source["ts_us"] // 1000 and source["ts_ns"] == source["ts_us"] * 1000

        consumer.clear()
        sql(dsn, "INSERT INTO kinds VALUES " + KINDS_VALUES, params=(2,))
        sql(dsn, "UPDATE kinds SET t = 'changed' WHERE id = 2")
        streamed = changes(poll_until(conn, consumer, 2))
        insert, update = streamed
        assert insert.value is not None and insert.value["op"] == "c"
        assert insert.value["after"] == {"id": 2, **EXPECTED_KINDS}
        assert update.value is not None and update.value["op"] == "u"
        assert update.value["before"] == {"id": 2, **EXPECTED_KINDS}
        # The untouched TOASTed column comes from the old row (REPLICA IDENTITY FULL).
        assert update.value["after"] == {"id": 2, **EXPECTED_KINDS, "t": "changed"}


def test_inserts_updates_deletes_and_truncates_stream_in_debezium_shape(dsn: str) -> None:
    consumer = InMemoryConsumer()
    with connector(dsn, consumer) as conn:
        assert consumer.records == []  # empty tables: nothing to snapshot
        sql(dsn, "INSERT INTO items VALUES (1, 'one', 1)")
        sql(dsn, "UPDATE items SET qty = 2 WHERE id = 1")
        sql(dsn, "UPDATE items SET id = 10 WHERE id = 1")
        sql(dsn, "DELETE FROM items WHERE id = 10")
        sql(dsn, "INSERT INTO notes VALUES ('keyless')")
        sql(dsn, "TRUNCATE items, notes")
        records = poll_until(conn, consumer, 6)
    ops = [(r.topic.rsplit(".", 1)[1], r.key, None if r.value is None else r.value.get("op") or r.value["status"])
           for r in records]
    assert ops == [
        ("transaction", ops[0][1], "BEGIN"), ("items", {"id": 1}, "c"), ("transaction", ops[2][1], "END"),
        ("transaction", ops[3][1], "BEGIN"), ("items", {"id": 1}, "u"), ("transaction", ops[5][1], "END"),
        ("transaction", ops[6][1], "BEGIN"), ("items", {"id": 1}, "d"), ("items", {"id": 1}, None),
        ("items", {"id": 10}, "c"), ("transaction", ops[10][1], "END"),
        ("transaction", ops[11][1], "BEGIN"), ("items", {"id": 10}, "d"), ("items", {"id": 10}, None),
        ("transaction", ops[14][1], "END"),
        ("transaction", ops[15][1], "BEGIN"), ("notes", None, "c"), ("transaction", ops[17][1], "END"),
        ("transaction", ops[18][1], "BEGIN"), ("items", None, "t"), ("notes", None, "t"),
        ("transaction", ops[21][1], "END"),
    ]
    update = records[4].value
    assert update is not None
    assert update["before"] == {"id": 1, "name": "one", "qty": 1} and update["after"] == {"id": 1, "name": "one", "qty": 2}
    pk_change_end = records[10].value
    assert pk_change_end is not None and pk_change_end["event_count"] == 2
    truncate_end = records[21].value
    assert truncate_end is not None and truncate_end["event_count"] == 2
    assert sorted(d["data_collection"] for d in truncate_end["data_collections"]) == ["public.items", "public.notes"]
    # sequence: [previous commit LSN, this event's LSN]
    second_insert = records[4]
    assert second_insert.value is not None
    assert second_insert.value["source"]["sequence"] == f'["{records[2].lsn}","{second_insert.lsn}"]'


def test_multi_statement_transactions_arrive_whole_and_in_commit_order(dsn: str) -> None:
    consumer = InMemoryConsumer()
    batches: list[list[ChangeRecord]] = []
    consumer = InMemoryConsumer(on_batch=lambda batch: batches.append(list(batch)))
    with connector(dsn, consumer) as conn, psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        first.execute("INSERT INTO items VALUES (1, 'first-a', 1)")
        second.execute("INSERT INTO items VALUES (2, 'second', 1)")
        first.execute("INSERT INTO items VALUES (3, 'first-b', 1)")
        first.execute("UPDATE items SET qty = 5 WHERE id = 1")
        second.commit()
        first.commit()
        poll_until(conn, consumer, 2)
    data = [r for batch in batches for r in changes(batch)]
    assert [r.key for r in data] == [{"id": 2}, {"id": 1}, {"id": 3}, {"id": 1}]
    for batch in batches:  # every batch holds whole transactions: BEGIN ... END
        markers = [r.value["status"] for r in batch if r.topic == "rustok.transaction" and r.value]
        assert markers == ["BEGIN", "END"] * (len(markers) // 2)
    orders = [r.value["transaction"]["total_order"] for r in data if r.value]
    assert orders == [1, 1, 2, 3]
    assert [r.value["source"]["txId"] for r in data if r.value][1:] == [data[1].value["source"]["txId"]] * 3  # type: ignore[index]


def test_restart_resumes_without_loss_or_duplicates(dsn: str) -> None:
    sql(dsn, "INSERT INTO items VALUES (1, 'before snapshot', 1)")
    consumer = InMemoryConsumer()
    conn = connector(dsn, consumer)
    conn.start()
    sql(dsn, "INSERT INTO items VALUES (2, 'streamed', 1)")
    poll_until(conn, consumer, 1)
    conn.close()
    sql(dsn, "INSERT INTO items VALUES (3, 'while stopped', 1)")
    sql(dsn, "UPDATE items SET qty = 9 WHERE id = 2")
    restarted = connector(dsn, consumer)
    restarted.start()
    try:
        assert restarted.snapshot_result is None  # resumed, no new snapshot
        sql(dsn, "INSERT INTO items VALUES (4, 'after restart', 1)")
        poll_until(restarted, consumer, 3)
        restarted.poll(0.5)
    finally:
        restarted.close()
    seen = [(r.key, r.value["op"]) for r in changes(consumer.records) if r.value]
    assert seen == [({"id": 1}, "r"), ({"id": 2}, "c"), ({"id": 3}, "c"), ({"id": 2}, "u"), ({"id": 4}, "c")]


def test_changes_not_confirmed_by_the_consumer_are_delivered_again_after_a_crash(dsn: str, server: ServerInfo) -> None:
    consumer = InMemoryConsumer(auto_durable=False)
    conn = connector(dsn, consumer)
    conn.start()
    consumer.mark_durable()  # the (empty) snapshot
    sql(dsn, "INSERT INTO items VALUES (1, 'confirmed', 1)")
    poll_until(conn, consumer, 1)
    consumer.mark_durable()
    conn.poll(0.2)
    durable = consumer.durable_lsn()
    sql(dsn, "INSERT INTO items VALUES (2, 'never confirmed', 1)")
    poll_until(conn, consumer, 1)
    assert consumer.durable_lsn() == durable
    # Crash: the process dies; nothing more is said to the server.
    assert conn._replication is not None  # noqa: SLF001 - simulating a killed process
    conn._replication.close()  # noqa: SLF001
    conn.close()  # releases the catalog session; the dead stream can confirm nothing more
    with psycopg.connect(dsn, autocommit=True) as admin:
        row = admin.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'embedded_test'").fetchone()
    assert row is not None
    high, low = str(row[0]).split("/")
    assert durable is not None and (int(high, 16) << 32 | int(low, 16)) <= durable
    restarted = connector(dsn, consumer)
    for _ in range(20):  # the old walsender may take a moment to notice the dead client
        try:
            restarted.start()
            break
        except SlotInUse:
            restarted.close()
            restarted = connector(dsn, consumer)
            time.sleep(0.2)
    try:
        again = changes(poll_until(restarted, consumer, 1))
    finally:
        restarted.close()
    assert [(r.key, r.value["op"]) for r in again if r.value] == [({"id": 2}, "c")]


def test_a_second_consumer_on_the_same_slot_is_refused(dsn: str) -> None:
    with connector(dsn, InMemoryConsumer()) as first:
        first.poll(0.1)
        consumer = InMemoryConsumer()
        consumer.deliver([ChangeRecord("x", None, None, 1, 1)])  # pretends to have a position
        second = connector(dsn, consumer)
        with pytest.raises(SlotInUse, match="embedded_test"):
            second.start()
        second.close()


def test_a_missing_publication_is_a_clear_error(dsn: str) -> None:
    sql(dsn, "DROP PUBLICATION rustok_cdc")
    conn = connector(dsn, InMemoryConsumer())
    with pytest.raises(PublicationMissing, match="rustok_cdc"):
        conn.start()
    conn.close()


def test_slot_lag_is_reported_and_shrinks_once_confirmed(dsn: str) -> None:
    consumer = InMemoryConsumer()
    with connector(dsn, consumer) as conn:
        sql(dsn, "INSERT INTO items SELECT g, 'x' || g, g FROM generate_series(1, 2000) g")
        behind = conn.lag()
        assert behind.bytes_behind is not None and behind.bytes_behind > 0
        assert behind.wal_status == "reserved" and behind.safe_wal_size is not None and behind.safe_wal_size > 0
        assert behind.active
        poll_until(conn, consumer, 1)
        # The server applies a confirmation when its walsender reads it: moments after it was sent.
        wait_for(lambda: conn.lag().bytes_behind != behind.bytes_behind, timeout=5, poll=lambda: conn.poll(0.05))
        caught_up = conn.lag()
        assert caught_up.bytes_behind is not None and caught_up.bytes_behind < behind.bytes_behind
        assert caught_up.seconds_since_confirm is not None and caught_up.seconds_since_confirm < 5
        assert len(changes(consumer.records)) == 2000
