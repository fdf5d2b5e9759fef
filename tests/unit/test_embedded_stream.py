"""Whole transactions of Debezium records from the pgoutput stream, without a database."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from connectors.embedded import pgoutput as pg
from connectors.embedded.envelope import EnvelopeBuilder, sequence_of
from connectors.embedded.errors import ProtocolError
from connectors.embedded.memory import InMemoryConsumer
from connectors.embedded.records import ChangeRecord
from connectors.embedded.snapshot import snapshot_marker
from connectors.embedded.tables import ColumnSpec, TableSchema
from connectors.embedded.transactions import CompletedTransaction, StreamAssembler, StreamOptions
from connectors.embedded.types import PgType, TypeRegistry
from connectors.embedded.values import UNAVAILABLE_VALUE

CAPTURED = json.loads((Path(__file__).parent / "data" / "pgoutput_captured.json").read_text())["messages"]
REGISTRY = TypeRegistry(
    [PgType(23, "int4"), PgType(25, "text"), PgType(16386, "mood", "public", typtype="e", category="E")]
)
CAP = TableSchema.build(
    "public", "cap",
    [ColumnSpec("id", 23, -1), ColumnSpec("note", 25, -1), ColumnSpec("m", 16386, -1), ColumnSpec("big", 25, -1)],
    ["id"], REGISTRY,
)


class FixedClock:
    def now_ns(self) -> int:
        return 1_700_000_000_123_456_789


class Tables:
    def __init__(self, *tables: TableSchema) -> None:
        self._tables = {(t.schema, t.name): t for t in tables}

    def table_for(self, relation: pg.Relation) -> TableSchema | None:
        return self._tables.get((relation.namespace, relation.name))


def assembler(options: StreamOptions = StreamOptions(), *tables: TableSchema) -> StreamAssembler:
    envelope = EnvelopeBuilder(prefix="rustok", database="shop", clock=FixedClock())  # type: ignore[arg-type]
    return StreamAssembler(envelope, Tables(*(tables or (CAP,))), options)


def run_captured(stream: StreamAssembler) -> list[CompletedTransaction]:
    done = []
    for item in CAPTURED:
        lsn = int(item["lsn"].split("/")[0], 16) << 32 | int(item["lsn"].split("/")[1], 16)
        result = stream.feed(lsn, pg.decode(bytes.fromhex(item["hex"])))
        if result is not None:
            done.append(result)
    return done


def values(tx: CompletedTransaction) -> list[dict[str, Any] | None]:
    return [record.value for record in tx.records]


def test_each_transaction_is_begin_changes_end_and_ends_at_the_commit_end_lsn() -> None:
    transactions = run_captured(assembler())
    assert [tx.xid for tx in transactions] == [736, 737, 738, 739, 740, 741]
    first = transactions[0]
    topics = [record.topic for record in first.records]
    assert topics == ["rustok.transaction", "rustok.public.cap", "rustok.public.cap", "rustok.transaction"]
    commit = pg.decode(bytes.fromhex(CAPTURED[5]["hex"]))
    assert isinstance(commit, pg.Commit)
    assert first.end_lsn == commit.end_lsn
    assert all(record.commit_lsn == commit.end_lsn for record in first.records)


def test_insert_event_has_debeziums_shape_and_source_block() -> None:
    first = run_captured(assembler())[0]
    record = first.records[1]
    assert record.key == {"id": 1}
    value = record.value
    assert value is not None
    assert list(value) == ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
    assert value["op"] == "c" and value["before"] is None
    assert value["after"] == {"id": 1, "note": "héllo", "m": "happy", "big": "x"}
    assert (value["ts_ms"], value["ts_us"], value["ts_ns"]) == (1_700_000_000_123, 1_700_000_000_123_456, 1_700_000_000_123_456_789)
    source = value["source"]
    assert list(source) == ["version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us", "ts_ns",
                            "schema", "table", "txId", "lsn", "xmin"]
    begin = pg.decode(bytes.fromhex(CAPTURED[0]["hex"]))
    assert isinstance(begin, pg.Begin)
    assert source["version"] == "3.2.7.Final" and source["connector"] == "postgresql" and source["name"] == "rustok"
    assert source["db"] == "shop" and source["schema"] == "public" and source["table"] == "cap"
    assert source["snapshot"] == "false" and source["xmin"] is None
    assert (source["ts_ms"], source["ts_us"], source["ts_ns"]) == (begin.commit_ts // 1000, begin.commit_ts, begin.commit_ts * 1000)
    assert source["txId"] == 736 and source["lsn"] == record.lsn
    assert source["sequence"] == json.dumps([None, str(record.lsn)], separators=(",", ":"))
    assert value["transaction"] == {"id": f"736:{record.lsn}", "total_order": 1, "data_collection_order": 1}


def test_transaction_markers_carry_counts_and_the_commit_time() -> None:
    first = run_captured(assembler())[0]
    begin_record, end_record = first.records[0], first.records[-1]
    begin_msg = pg.decode(bytes.fromhex(CAPTURED[0]["hex"]))
    assert isinstance(begin_msg, pg.Begin)
    assert begin_record.key == {"id": f"736:{begin_record.lsn}"}
    assert begin_record.value == {"status": "BEGIN", "id": f"736:{begin_record.lsn}", "event_count": None,
                                  "data_collections": None, "ts_ms": begin_msg.commit_ts // 1000}
    assert end_record.value == {"status": "END", "id": f"736:{end_record.lsn}", "event_count": 2,
                                "data_collections": [{"data_collection": "public.cap", "event_count": 2}],
                                "ts_ms": begin_msg.commit_ts // 1000}


def test_later_transactions_carry_the_previous_commit_in_their_sequence() -> None:
    transactions = run_captured(assembler())
    previous_commit_lsn = transactions[0].records[-1].lsn
    insert = transactions[1].records[1]
    assert insert.value is not None
    assert insert.value["source"]["sequence"] == sequence_of(previous_commit_lsn, insert.lsn)


def test_update_fills_the_unchanged_toast_from_the_old_row() -> None:
    update = run_captured(assembler())[2].records[1].value
    assert update is not None
    assert update["op"] == "u"
    assert update["before"] == {"id": 3, "note": "toast", "m": "sad", "big": "t" * 2500}
    assert update["after"] == {"id": 3, "note": "bye", "m": "sad", "big": "t" * 2500}


def test_update_without_old_row_gets_the_placeholder_for_unchanged_toast() -> None:
    stream = assembler()
    stream.feed(1, pg.decode(bytes.fromhex(CAPTURED[2]["hex"])))
    stream.feed(2, pg.Begin(final_lsn=9, commit_ts=0, xid=5))
    stream.feed(3, pg.Update(xid=None, relation_id=16391, old_kind=None, old=None, new=("3", "bye", "sad", pg.UNCHANGED_TOAST)))
    done = stream.feed(4, pg.Commit(flags=0, commit_lsn=9, end_lsn=10, commit_ts=0))
    assert done is not None
    value = done.records[1].value
    assert value is not None and value["before"] is None and value["after"]["big"] == UNAVAILABLE_VALUE


def test_delete_is_followed_by_a_tombstone() -> None:
    delete_tx = run_captured(assembler())[3]
    delete, tombstone = delete_tx.records[1], delete_tx.records[2]
    assert delete.value is not None and delete.value["op"] == "d" and delete.value["after"] is None
    assert delete.value["before"] == {"id": 2, "note": None, "m": None, "big": None}
    assert (tombstone.topic, tombstone.key, tombstone.value) == ("rustok.public.cap", {"id": 2}, None)
    end = delete_tx.records[-1].value
    assert end is not None and end["event_count"] == 1


def test_tombstones_can_be_switched_off() -> None:
    delete_tx = run_captured(assembler(StreamOptions(tombstones_on_delete=False)))[3]
    assert [r.value is None for r in delete_tx.records] == [False, False, False]


def test_truncate_is_an_op_t_event_unless_skipped() -> None:
    truncate_tx = run_captured(assembler())[4]
    truncate = truncate_tx.records[1]
    assert truncate.key is None and truncate.value is not None
    assert (truncate.value["op"], truncate.value["before"], truncate.value["after"]) == ("t", None, None)
    skipped = run_captured(assembler(StreamOptions(skipped_operations=frozenset({"t"}))))[4]
    assert [record.topic for record in skipped.records] == ["rustok.transaction", "rustok.transaction"]
    end = skipped.records[-1].value
    assert end is not None and end["event_count"] == 0 and end["data_collections"] == []


def test_logical_messages_produce_no_change_events() -> None:
    message_tx = run_captured(assembler())[5]
    assert [record.topic for record in message_tx.records] == ["rustok.transaction", "rustok.transaction"]


def test_primary_key_change_becomes_delete_tombstone_and_create_with_key_headers() -> None:
    stream = assembler()
    stream.feed(1, pg.decode(bytes.fromhex(CAPTURED[2]["hex"])))
    stream.feed(2, pg.Begin(final_lsn=9, commit_ts=0, xid=5))
    stream.feed(3, pg.Update(None, 16391, "O", ("1", "a", None, None), ("2", "a", None, None)))
    done = stream.feed(4, pg.Commit(flags=0, commit_lsn=9, end_lsn=10, commit_ts=0))
    assert done is not None
    delete, tombstone, create = done.records[1:4]
    assert delete.key == {"id": 1} and delete.value is not None and delete.value["op"] == "d"
    assert delete.headers == (("__debezium.newkey", {"id": 2}),)
    assert tombstone.key == {"id": 1} and tombstone.value is None
    assert create.key == {"id": 2} and create.value is not None and create.value["op"] == "c"
    assert create.headers == (("__debezium.oldkey", {"id": 1}),)
    assert [delete.value["transaction"]["total_order"], create.value["transaction"]["total_order"]] == [1, 2]


def test_tables_without_a_primary_key_have_a_null_key() -> None:
    keyless = TableSchema.build("public", "cap", [ColumnSpec("id", 23, -1), ColumnSpec("note", 25, -1),
                                                 ColumnSpec("m", 16386, -1), ColumnSpec("big", 25, -1)], [], REGISTRY)
    transactions = run_captured(assembler(StreamOptions(), keyless))
    assert transactions[0].records[1].key is None


def test_changes_of_uncaptured_tables_are_dropped_but_markers_remain() -> None:
    other = TableSchema.build("public", "other", [ColumnSpec("id", 23, -1)], ["id"], REGISTRY)
    transactions = run_captured(assembler(StreamOptions(), other))
    assert [len(tx.records) for tx in transactions] == [2, 2, 2, 2, 2, 2]


def test_per_table_counts_come_in_java_hashmap_order() -> None:
    envelope = EnvelopeBuilder(prefix="rustok", database="shop")
    _, value = envelope.transaction_end(7, 100, 1_000_000, [("s2.a", 1), ("s1.a", 2), ("public.nodes", 3)])
    # String.hashCode: "public.nodes" -530612500, "s1.a" 3474577, "s2.a" 3475538; spread and
    # masked to 16 buckets they land in 3, 4 and 7.
    assert value["data_collections"] == [
        {"data_collection": "public.nodes", "event_count": 3},
        {"data_collection": "s1.a", "event_count": 2},
        {"data_collection": "s2.a", "event_count": 1},
    ]
    assert value["event_count"] == 6


def test_change_before_its_relation_or_outside_a_transaction_is_a_protocol_error() -> None:
    stream = assembler()
    with pytest.raises(ProtocolError, match="outside a transaction"):
        stream.feed(1, pg.Commit(flags=0, commit_lsn=1, end_lsn=2, commit_ts=0))
    stream.feed(1, pg.Begin(final_lsn=9, commit_ts=0, xid=5))
    with pytest.raises(ProtocolError, match="before its Relation"):
        stream.feed(2, pg.Insert(xid=None, relation_id=1, new=("1",)))
    with pytest.raises(ProtocolError, match="streamed"):
        stream.feed(3, pg.decode(b"S" + struct.pack(">IB", 1, 1)))


@pytest.mark.parametrize(
    ("first_table", "last_table", "first", "last", "expected"),
    [
        (True, True, True, True, "last"),
        (True, False, True, True, "first"),
        (True, False, True, False, "first"),
        (False, False, True, False, "first_in_data_collection"),
        (False, False, False, True, "last_in_data_collection"),
        (False, True, False, True, "last"),
        (False, False, False, False, "true"),
        (True, True, False, False, "true"),
    ],
)
def test_snapshot_markers_follow_debezium(first_table: bool, last_table: bool, first: bool, last: bool, expected: str) -> None:
    assert snapshot_marker(first_table, last_table, first, last) == expected


def test_in_memory_consumer_reports_durability_as_told() -> None:
    consumer = InMemoryConsumer(auto_durable=False)
    consumer.deliver([ChangeRecord("t", None, None, 5, None), ChangeRecord("t", None, None, 6, 10)])
    assert consumer.durable_lsn() is None and consumer.count == 2
    consumer.mark_durable()
    assert consumer.durable_lsn() == 10
    consumer.mark_durable(4)
    assert consumer.durable_lsn() == 10
    auto = InMemoryConsumer()
    auto.deliver([ChangeRecord("t", None, None, 5, 7)])
    assert auto.durable_lsn() == 7
    assert auto.wait_for(lambda records: len(records) == 1, timeout=0.1)
