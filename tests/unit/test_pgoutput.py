"""The pgoutput decoder on hand-built messages and on bytes captured from a real slot.

The captured messages (``data/pgoutput_captured.json``) came from PostgreSQL 16 via
``pg_logical_slot_peek_binary_changes(..., 'proto_version', '1', 'messages', 'true')``
after these statements on ``cap (id int PRIMARY KEY, note text, m mood, big text)``
with ``big`` stored EXTERNAL, REPLICA IDENTITY FULL, ``mood`` an enum::

    INSERT INTO cap VALUES (1, 'héllo', 'happy', 'x'), (2, NULL, NULL, NULL);
    INSERT INTO cap VALUES (3, 'toast', 'sad', repeat('t', 2500));
    UPDATE cap SET note = 'bye' WHERE id = 3;
    DELETE FROM cap WHERE id = 2;
    TRUNCATE cap;
    SELECT pg_logical_emit_message(true, 'pfx', 'hi');
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from connectors.embedded import pgoutput as pg
from connectors.embedded.errors import ProtocolError
from connectors.embedded.lsn import format_lsn, parse_lsn

CAPTURED = json.loads((Path(__file__).parent / "data" / "pgoutput_captured.json").read_text())["messages"]
PG_EPOCH_MICROS = 946_684_800_000_000


def cstr(text: str) -> bytes:
    return text.encode() + b"\x00"


def tuple_data(*columns: tuple[str, bytes | None]) -> bytes:
    out = struct.pack(">h", len(columns))
    for kind, data in columns:
        out += kind.encode()
        if data is not None:
            out += struct.pack(">i", len(data)) + data
    return out


def captured(index: int) -> Any:
    return pg.decode(bytes.fromhex(CAPTURED[index]["hex"]))


# -- hand-built messages -------------------------------------------------------------


def test_decodes_begin_with_commit_time_moved_to_the_unix_epoch() -> None:
    message = pg.decode(b"B" + struct.pack(">QqI", 0x1_0000_0010, 5_000_000, 4_000_000_000))
    assert message == pg.Begin(final_lsn=0x1_0000_0010, commit_ts=PG_EPOCH_MICROS + 5_000_000, xid=4_000_000_000)


def test_decodes_commit() -> None:
    message = pg.decode(b"C" + struct.pack(">BQQq", 0, 100, 148, -1))
    assert message == pg.Commit(flags=0, commit_lsn=100, end_lsn=148, commit_ts=PG_EPOCH_MICROS - 1)


def test_decodes_origin() -> None:
    assert pg.decode(b"O" + struct.pack(">Q", 77) + cstr("node_a")) == pg.Origin(commit_lsn=77, name="node_a")


def test_decodes_relation_with_key_flags_and_type_modifiers() -> None:
    data = (
        b"R" + struct.pack(">I", 16391) + cstr("public") + cstr("items") + b"f" + struct.pack(">h", 2)
        + b"\x01" + cstr("id") + struct.pack(">Ii", 20, -1)
        + b"\x00" + cstr("price") + struct.pack(">Ii", 1700, (10 << 16 | 2) + 4)
    )
    message = pg.decode(data)
    assert isinstance(message, pg.Relation)
    assert (message.relation_id, message.namespace, message.name, message.replica_identity) == (16391, "public", "items", "f")
    assert [c.is_key for c in message.columns] == [True, False]
    assert message.columns[1] == pg.RelationColumn(flags=0, name="price", type_oid=1700, type_modifier=655366)


def test_decodes_a_relation_in_pg_catalog_with_an_empty_namespace() -> None:
    data = b"R" + struct.pack(">I", 5) + cstr("") + cstr("t") + b"d" + struct.pack(">h", 0)
    message = pg.decode(data)
    assert isinstance(message, pg.Relation)
    assert message.namespace == "" and message.columns == ()


def test_decodes_type() -> None:
    assert pg.decode(b"Y" + struct.pack(">I", 16386) + cstr("public") + cstr("mood")) == pg.Type(None, 16386, "public", "mood")


def test_decodes_insert_with_every_tuple_column_kind() -> None:
    data = b"I" + struct.pack(">I", 7) + b"N" + tuple_data(
        ("t", "héllo".encode()), ("n", None), ("u", None), ("b", b"\x00\x01"), ("t", b"")
    )
    assert pg.decode(data) == pg.Insert(xid=None, relation_id=7, new=("héllo", None, pg.UNCHANGED_TOAST, b"\x00\x01", ""))


@pytest.mark.parametrize("kind", ["K", "O"])
def test_decodes_update_with_an_old_tuple(kind: str) -> None:
    data = b"U" + struct.pack(">I", 7) + kind.encode() + tuple_data(("t", b"1")) + b"N" + tuple_data(("t", b"2"))
    assert pg.decode(data) == pg.Update(xid=None, relation_id=7, old_kind=kind, old=("1",), new=("2",))


def test_decodes_update_without_an_old_tuple() -> None:
    data = b"U" + struct.pack(">I", 7) + b"N" + tuple_data(("t", b"2"), ("u", None))
    assert pg.decode(data) == pg.Update(xid=None, relation_id=7, old_kind=None, old=None, new=("2", pg.UNCHANGED_TOAST))


def test_decodes_delete() -> None:
    data = b"D" + struct.pack(">I", 7) + b"K" + tuple_data(("t", b"9"), ("n", None))
    assert pg.decode(data) == pg.Delete(xid=None, relation_id=7, old_kind="K", old=("9", None))


def test_decodes_truncate_with_options() -> None:
    message = pg.decode(b"T" + struct.pack(">iBII", 2, 3, 10, 11))
    assert message == pg.Truncate(xid=None, options=3, relation_ids=(10, 11))
    assert isinstance(message, pg.Truncate) and message.cascade and message.restart_identity


def test_decodes_a_non_transactional_logical_message() -> None:
    data = b"M" + struct.pack(">BQ", 0, 99) + cstr("audit") + struct.pack(">i", 3) + b"\x00ab"
    assert pg.decode(data) == pg.LogicalMessage(xid=None, transactional=False, lsn=99, prefix="audit", content=b"\x00ab")


def test_protocol_2_messages_inside_a_stream_carry_the_xid() -> None:
    insert = b"I" + struct.pack(">II", 555, 7) + b"N" + tuple_data(("t", b"1"))
    assert pg.decode(insert, in_stream=True) == pg.Insert(xid=555, relation_id=7, new=("1",))
    assert pg.decode(b"S" + struct.pack(">IB", 555, 1)) == pg.StreamStart(xid=555, first_segment=True)
    assert pg.decode(b"E") == pg.StreamStop()
    commit = pg.decode(b"c" + struct.pack(">IBQQq", 555, 0, 10, 20, 0))
    assert commit == pg.StreamCommit(xid=555, flags=0, commit_lsn=10, end_lsn=20, commit_ts=PG_EPOCH_MICROS)
    assert pg.decode(b"A" + struct.pack(">II", 555, 556)) == pg.StreamAbort(xid=555, subxid=556)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"Z", "unknown message type"),
        (b"B" + b"\x00" * 5, "truncated"),
        (b"C" + struct.pack(">BQQq", 0, 1, 2, 3) + b"!", "trailing"),
        (b"I" + struct.pack(">I", 7) + b"X", "expected 'N'"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 1) + b"q", "unknown tuple column kind"),
        (b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 1) + b"t" + struct.pack(">i", 10) + b"ab", "truncated"),
        (b"Y" + struct.pack(">I", 1) + b"public", "unterminated string"),
        (b"D" + struct.pack(">I", 7) + b"N" + tuple_data(("t", b"1")), "expected 'K' or 'O'"),
    ],
)
def test_rejects_malformed_messages_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        pg.decode(data)


def test_unchanged_toast_marker_is_a_singleton_that_survives_pickling() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(pg.UNCHANGED_TOAST)) is pg.UNCHANGED_TOAST
    assert repr(pg.UNCHANGED_TOAST) == "UNCHANGED_TOAST"


def test_lsn_text_round_trips() -> None:
    assert parse_lsn("16/B374D848") == 0x16_B374_D848
    assert format_lsn(0x16_B374_D848) == "16/B374D848"
    with pytest.raises(ProtocolError):
        parse_lsn("nope")


# -- bytes captured from a real slot -------------------------------------------------


def test_every_captured_message_decodes() -> None:
    kinds = [type(pg.decode(bytes.fromhex(m["hex"]))).__name__ for m in CAPTURED]
    assert kinds == [
        "Begin", "Type", "Relation", "Insert", "Insert", "Commit",
        "Begin", "Insert", "Commit",
        "Begin", "Update", "Commit",
        "Begin", "Delete", "Commit",
        "Begin", "Type", "Relation", "Truncate", "Commit",
        "Begin", "LogicalMessage", "Commit",
    ]


def test_captured_begin_and_commit_agree() -> None:
    begin, commit = captured(0), captured(5)
    assert isinstance(begin, pg.Begin) and isinstance(commit, pg.Commit)
    assert begin.xid == CAPTURED[0]["xid"]
    assert begin.final_lsn == commit.commit_lsn < commit.end_lsn
    assert begin.commit_ts == commit.commit_ts


def test_captured_relation_describes_the_table_with_full_replica_identity() -> None:
    relation = captured(2)
    enum = captured(1)
    assert isinstance(relation, pg.Relation) and isinstance(enum, pg.Type)
    assert (relation.namespace, relation.name, relation.replica_identity) == ("public", "cap", "f")
    assert [(c.name, c.type_oid) for c in relation.columns] == [("id", 23), ("note", 25), ("m", enum.type_oid), ("big", 25)]
    # Under REPLICA IDENTITY FULL every column is flagged as part of the key.
    assert all(c.is_key for c in relation.columns)


def test_captured_inserts_carry_unicode_text_and_nulls() -> None:
    assert captured(3).new == ("1", "héllo", "happy", "x")
    assert captured(4).new == ("2", None, None, None)


def test_captured_update_sends_the_whole_old_row_and_marks_the_unchanged_toast() -> None:
    update = captured(10)
    assert isinstance(update, pg.Update)
    assert update.old_kind == "O"
    assert update.old == ("3", "toast", "sad", "t" * 2500)
    assert update.new == ("3", "bye", "sad", pg.UNCHANGED_TOAST)


def test_captured_delete_truncate_and_message() -> None:
    delete, truncate, message = captured(13), captured(18), captured(21)
    assert delete == pg.Delete(xid=None, relation_id=captured(2).relation_id, old_kind="O", old=("2", None, None, None))
    assert isinstance(truncate, pg.Truncate) and truncate.relation_ids == (captured(2).relation_id,) and truncate.options == 0
    assert isinstance(message, pg.LogicalMessage)
    assert (message.transactional, message.prefix, message.content) == (True, "pfx", b"hi")
