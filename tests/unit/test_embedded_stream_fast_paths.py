"""The streaming fast paths give exactly what the general decoder and assembler give."""

from __future__ import annotations

import gc
import json
import struct
from pathlib import Path

import pytest

from connectors.embedded import pgoutput as pg
from connectors.embedded.envelope import EnvelopeBuilder
from connectors.embedded.errors import ProtocolError
from connectors.embedded.gcpause import collector_paused
from connectors.embedded.records import ChangeRecord
from connectors.embedded.tables import ColumnSpec, RelationMapping, TableSchema
from connectors.embedded.transactions import StreamAssembler, StreamOptions
from connectors.embedded.types import PgType, TypeRegistry
from connectors.embedded.values import converter_for

CAPTURED = json.loads((Path(__file__).parent / "data" / "pgoutput_captured.json").read_text())["messages"]
REGISTRY = TypeRegistry([
    PgType(20, "int8"), PgType(23, "int4"), PgType(25, "text"), PgType(1184, "timestamptz"),
    PgType(16386, "mood", "public", typtype="e", category="E"),
])
CAP = TableSchema.build(
    "public", "cap",
    [ColumnSpec("id", 23, -1), ColumnSpec("note", 25, -1), ColumnSpec("m", 16386, -1), ColumnSpec("big", 25, -1)],
    ["id"], REGISTRY,
)
# ``total`` is a generated column: pgoutput leaves it out of the Relation and the rows.
ORDERS = TableSchema.build(
    "public", "orders",
    [ColumnSpec("id", 20, -1), ColumnSpec("qty", 23, -1), ColumnSpec("total", 23, -1), ColumnSpec("at", 1184, -1)],
    ["id"], REGISTRY,
)


class FixedClock:
    def now_ns(self) -> int:
        return 1_700_000_000_123_456_789


class Tables:
    def table_for(self, relation: pg.Relation) -> TableSchema | None:
        return {"cap": CAP, "orders": ORDERS}.get(relation.name)


def lsn_of(text: str) -> int:
    high, low = text.split("/")
    return int(high, 16) << 32 | int(low, 16)


def cstr(text: str) -> bytes:
    return text.encode() + b"\x00"


def tuple_data(*values: str | None) -> bytes:
    out = struct.pack(">h", len(values))
    for value in values:
        out += b"n" if value is None else b"t" + struct.pack(">i", len(value.encode())) + value.encode()
    return out


def orders_stream() -> list[bytes]:
    """Two transactions on a table with a generated column: inserts sharing one now(),
    a primary key change, a NULL, a delete."""
    columns = [(1, "id", 20), (0, "qty", 23), (0, "at", 1184)]
    relation = b"R" + struct.pack(">I", 42) + cstr("public") + cstr("orders") + b"d" + struct.pack(">h", len(columns))
    for flags, name, oid in columns:
        relation += struct.pack(">B", flags) + cstr(name) + struct.pack(">Ii", oid, -1)
    now, later = "2026-11-22 19:01:07.5+00", "2026-11-22 19:01:08+00"
    insert = [b"I" + struct.pack(">I", 42) + b"N" + tuple_data(str(n), str(n * 3), now) for n in range(1, 6)]
    return [
        b"B" + struct.pack(">QqI", 500, 0, 900), relation, *insert, b"C" + struct.pack(">BQQq", 0, 500, 510, 0),
        b"B" + struct.pack(">QqI", 600, 0, 901), relation,
        b"U" + struct.pack(">I", 42) + b"K" + tuple_data("1", None, None) + b"N" + tuple_data("10", "3", later),
        b"U" + struct.pack(">I", 42) + b"N" + tuple_data("2", None, now),
        b"D" + struct.pack(">I", 42) + b"K" + tuple_data("3", None, None),
        b"I" + struct.pack(">I", 42) + b"N" + tuple_data("6", "18", later),
        b"C" + struct.pack(">BQQq", 0, 600, 610, 0),
    ]


def assemble(stream: list[tuple[int, bytes]], raw: bool, options: StreamOptions = StreamOptions()) -> list[ChangeRecord]:
    envelope = EnvelopeBuilder(prefix="rustok", database="shop", clock=FixedClock())  # type: ignore[arg-type]
    assembler = StreamAssembler(envelope, Tables(), options, last_commit_lsn=77)
    records: list[ChangeRecord] = []
    for lsn, payload in stream:
        done = assembler.feed_payload(lsn, payload) if raw else assembler.feed(lsn, pg.decode(payload))
        if done is not None:
            records.extend(done.records)
    return records


def as_json(records: list[ChangeRecord]) -> list[str]:
    # JSON text keeps the key order, which Debezium's messages have.
    return [json.dumps([r.topic, r.key, r.value, r.lsn, r.commit_lsn, r.headers]) for r in records]


CAPTURED_STREAM = [(lsn_of(m["lsn"]), bytes.fromhex(m["hex"])) for m in CAPTURED]
ORDERS_STREAM = [(1000 + n, payload) for n, payload in enumerate(orders_stream())]


@pytest.mark.parametrize("stream", [CAPTURED_STREAM, ORDERS_STREAM], ids=["captured", "orders"])
@pytest.mark.parametrize("options", [StreamOptions(), StreamOptions(frozenset("c"), False, False)], ids=["default", "skips"])
def test_raw_payloads_give_the_same_records_as_decoded_messages(stream: list[tuple[int, bytes]], options: StreamOptions) -> None:
    raw = assemble(stream, raw=True, options=options)
    assert raw and as_json(raw) == as_json(assemble(stream, raw=False, options=options))


def test_a_generated_column_left_out_of_the_stream_is_null_and_every_other_column_converted() -> None:
    records = [r for r in assemble(ORDERS_STREAM, raw=True) if r.topic == "rustok.public.orders"]
    first = records[0].value
    assert first is not None
    assert first["after"] == {"id": 1, "qty": 3, "total": None, "at": "2026-11-22T19:01:07.500000Z"}
    ops = [(r.value or {}).get("op") for r in records]
    assert ops == ["c"] * 5 + ["d", None, "c", "u", "d", None, "c"]
    created = records[7].value
    assert created is not None and created["after"]["at"] == "2026-11-22T19:01:08.000000Z"
    assert records[7].headers == (("__debezium.oldkey", {"id": 1}),)


def test_a_repeated_timestamp_converts_like_the_first_and_a_new_one_is_converted_afresh() -> None:
    converter = converter_for(REGISTRY.get(1184), -1, REGISTRY)
    assert converter is not None
    a, b = "2026-11-22 19:01:07.123+00", "2026-11-22 19:01:07+00"
    converted = [converter.convert(value) for value in (a, a, b, a, "infinity")]
    assert converted == ["2026-11-22T19:01:07.123000Z", "2026-11-22T19:01:07.123000Z", "2026-11-22T19:01:07.000000Z",
                         "2026-11-22T19:01:07.123000Z", "infinity"]


def test_decode_insert_reads_inserts_only_and_agrees_with_decode() -> None:
    for _, payload in CAPTURED_STREAM + ORDERS_STREAM:
        found = pg.decode_insert(payload)
        message = pg.decode(payload)
        if isinstance(message, pg.Insert):
            assert found == (message.relation_id, message.new)
        else:
            assert found is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"I" + struct.pack(">I", 7) + b"N" + tuple_data("1") + b"!", "trailing"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 2) + b"t" + struct.pack(">i", 1) + b"1", "truncated"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 1) + b"t" + struct.pack(">i", -2), "negative length"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 1) + b"t\x00", "truncated"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", -1), "negative column count"),
    ],
)
def test_a_malformed_insert_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        pg.decode_insert(data)
    with pytest.raises(ProtocolError, match=reason):
        pg.decode(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"U" + struct.pack(">I", 7) + b"O" + tuple_data("1"), "truncated"),
        (b"U" + struct.pack(">I", 7) + b"X" + tuple_data("1"), "expected 'N' in update"),
        (b"U" + struct.pack(">I", 7) + b"K" + tuple_data("1") + b"K" + tuple_data("2"), "expected 'N' in update"),
        (b"U" + struct.pack(">I", 7) + b"N" + tuple_data("1") + b"!", "trailing"),
        (b"D" + struct.pack(">I", 7) + b"K" + tuple_data("1") + b"zz", "trailing"),
        (b"D" + struct.pack(">I", 7) + b"O" + struct.pack(">h", 3) + b"n", "truncated"),
    ],
)
def test_a_malformed_update_or_delete_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        pg.decode(data)


def test_updates_and_deletes_decode_with_their_old_row_kind() -> None:
    update = b"U" + struct.pack(">I", 7) + b"O" + tuple_data("1", None) + b"N" + tuple_data("1", "x")
    assert pg.decode(update) == pg.Update(None, 7, "O", ("1", None), ("1", "x"))
    delete = b"D" + struct.pack(">I", 7) + b"K" + tuple_data("1", None)
    assert pg.decode(delete) == pg.Delete(None, 7, "K", ("1", None))
    assert pg.decode(update[:1] + struct.pack(">I", 5) + update[1:], in_stream=True) == pg.Update(
        5, 7, "O", ("1", None), ("1", "x"))


def test_a_mapping_reads_binary_and_unchanged_toast_values_like_text() -> None:
    relation = pg.Relation(None, 9, "public", "cap", "f", tuple(
        pg.RelationColumn(0, column.name, column.type_oid, -1) for column in CAP.columns))
    mapping = RelationMapping(relation, CAP)
    old = mapping.row(("1", "note", "happy", "big text"))
    assert mapping.row((b"1", None, "sad", pg.UNCHANGED_TOAST), fallback=old) == {
        "id": 1, "note": None, "m": "sad", "big": "big text"}
    assert mapping.row(("1", "x", "sad", pg.UNCHANGED_TOAST))["big"] == "__debezium_unavailable_value"


def test_the_collector_is_back_on_after_a_batch_and_stays_off_if_the_process_turned_it_off() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
