"""A pure decoder of pgoutput messages (logical replication protocol versions 1 and 2).

Each ``XLogData`` payload a walsender sends with ``plugin pgoutput`` is one message;
:func:`decode` turns it into a frozen dataclass. The formats are those of the
PostgreSQL documentation, "Logical Replication Message Formats". Version 2 adds a
transaction id to relation, type, row, truncate and message messages, present only
inside a streamed transaction (between Stream Start and Stream Stop); the caller says
whether it is inside one with ``in_stream``.

Tuple data is decoded to a tuple with one item per column: ``None`` for SQL NULL
(``'n'``), :data:`UNCHANGED_TOAST` for an unchanged TOASTed value that was not sent
(``'u'``), ``str`` for a text-format value (``'t'``) and ``bytes`` for a binary-format
value (``'b'``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .errors import ProtocolError

# Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
PG_EPOCH_OFFSET_MICROS: Final = 946_684_800_000_000


class _UnchangedToast:
    """The marker for a TOASTed column value the server did not send (``'u'``)."""

    _instance: _UnchangedToast | None = None

    def __new__(cls) -> _UnchangedToast:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED_TOAST"

    def __reduce__(self) -> str:
        return "UNCHANGED_TOAST"


UNCHANGED_TOAST: Final = _UnchangedToast()

ColumnValue = str | bytes | None | _UnchangedToast
TupleData = tuple[ColumnValue, ...]


def pg_timestamp_to_unix_micros(pg_micros: int) -> int:
    """A PostgreSQL ``TimestampTz`` (micros since 2000-01-01) as micros since 1970-01-01."""
    return pg_micros + PG_EPOCH_OFFSET_MICROS


@dataclass(frozen=True, slots=True)
class Begin:
    final_lsn: int
    commit_ts: int  # microseconds since the Unix epoch
    xid: int


@dataclass(frozen=True, slots=True)
class Commit:
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts: int  # microseconds since the Unix epoch


@dataclass(frozen=True, slots=True)
class Origin:
    commit_lsn: int
    name: str


@dataclass(frozen=True, slots=True)
class RelationColumn:
    flags: int
    name: str
    type_oid: int
    type_modifier: int

    @property
    def is_key(self) -> bool:
        return bool(self.flags & 1)


@dataclass(frozen=True, slots=True)
class Relation:
    xid: int | None
    relation_id: int
    namespace: str
    name: str
    replica_identity: str  # 'd' default, 'n' nothing, 'f' full, 'i' index
    columns: tuple[RelationColumn, ...]


@dataclass(frozen=True, slots=True)
class Type:
    xid: int | None
    type_oid: int
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Insert:
    xid: int | None
    relation_id: int
    new: TupleData


@dataclass(frozen=True, slots=True)
class Update:
    xid: int | None
    relation_id: int
    old_kind: str | None  # 'K' key columns only, 'O' the whole old row, None not sent
    old: TupleData | None
    new: TupleData


@dataclass(frozen=True, slots=True)
class Delete:
    xid: int | None
    relation_id: int
    old_kind: str  # 'K' or 'O'
    old: TupleData


@dataclass(frozen=True, slots=True)
class Truncate:
    xid: int | None
    options: int
    relation_ids: tuple[int, ...]

    @property
    def cascade(self) -> bool:
        return bool(self.options & 1)

    @property
    def restart_identity(self) -> bool:
        return bool(self.options & 2)


@dataclass(frozen=True, slots=True)
class LogicalMessage:
    xid: int | None
    transactional: bool
    lsn: int
    prefix: str
    content: bytes


@dataclass(frozen=True, slots=True)
class StreamStart:
    xid: int
    first_segment: bool


@dataclass(frozen=True, slots=True)
class StreamStop:
    pass


@dataclass(frozen=True, slots=True)
class StreamCommit:
    xid: int
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts: int  # microseconds since the Unix epoch


@dataclass(frozen=True, slots=True)
class StreamAbort:
    xid: int
    subxid: int


Message = (
    Begin
    | Commit
    | Origin
    | Relation
    | Type
    | Insert
    | Update
    | Delete
    | Truncate
    | LogicalMessage
    | StreamStart
    | StreamStop
    | StreamCommit
    | StreamAbort
)

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_U64 = struct.Struct(">Q")


class _Reader:
    """Big-endian cursor over one message; every read checks the bounds."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, size: int) -> None:
        if self.pos + size > len(self.data):
            raise ProtocolError(f"message truncated at byte {self.pos} (need {size} more of {len(self.data)})")

    def byte(self) -> int:
        self._need(1)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def char(self) -> str:
        return chr(self.byte())

    def i16(self) -> int:
        self._need(2)
        (value,) = _I16.unpack_from(self.data, self.pos)
        self.pos += 2
        return int(value)

    def i32(self) -> int:
        self._need(4)
        (value,) = _I32.unpack_from(self.data, self.pos)
        self.pos += 4
        return int(value)

    def u32(self) -> int:
        self._need(4)
        (value,) = _U32.unpack_from(self.data, self.pos)
        self.pos += 4
        return int(value)

    def i64(self) -> int:
        self._need(8)
        (value,) = _I64.unpack_from(self.data, self.pos)
        self.pos += 8
        return int(value)

    def u64(self) -> int:
        self._need(8)
        (value,) = _U64.unpack_from(self.data, self.pos)
        self.pos += 8
        return int(value)

    def string(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolError(f"unterminated string at byte {self.pos}")
        value = self.data[self.pos : end].decode("utf-8")
        self.pos = end + 1
        return value

    def raw(self, size: int) -> bytes:
        if size < 0:
            raise ProtocolError(f"negative length {size} at byte {self.pos}")
        self._need(size)
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value

    def tuple_data(self) -> TupleData:
        values, self.pos = read_tuple(self.data, self.pos)
        return values

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected trailing bytes")


_unpack_i32 = _I32.unpack_from


def read_tuple(data: bytes, pos: int) -> tuple[TupleData, int]:
    """The TupleData at ``pos``, and the position after it.

    The hot loop of streaming, so it reads ``data`` directly rather than through a
    :class:`_Reader`: text values first; reading past the end raises IndexError or
    struct.error, turned into one ProtocolError, and a slice (which would come back
    short instead) is checked against the end before it is used.
    """
    end = len(data)
    if pos + 2 > end:
        raise ProtocolError(f"message truncated at byte {pos} (need 2 more of {end})")
    count = (data[pos] << 8) | data[pos + 1]
    if count >= 0x8000:
        raise ProtocolError(f"negative column count at byte {pos}")
    pos += 2
    values: list[ColumnValue] = []
    append = values.append
    try:
        for _ in range(count):
            kind = data[pos]
            if kind == 0x74:  # 't' text
                start = pos + 5
                pos = start + _unpack_i32(data, pos + 1)[0]
                if not start <= pos <= end:
                    raise _bad_length(start, pos, end)
                append(data[start:pos].decode("utf-8"))
            elif kind == 0x6E:  # 'n'
                pos += 1
                append(None)
            elif kind == 0x75:  # 'u'
                pos += 1
                append(UNCHANGED_TOAST)
            elif kind == 0x62:  # 'b' binary
                start = pos + 5
                pos = start + _unpack_i32(data, pos + 1)[0]
                if not start <= pos <= end:
                    raise _bad_length(start, pos, end)
                append(data[start:pos])
            else:
                raise ProtocolError(f"unknown tuple column kind {kind!r} at byte {pos}")
    except (IndexError, struct.error):
        raise ProtocolError(f"message truncated at byte {pos} (of {end})") from None
    return tuple(values), pos


def _bad_length(start: int, stop: int, end: int) -> ProtocolError:
    if stop < start:
        return ProtocolError(f"negative length {stop - start} at byte {start}")
    return ProtocolError(f"message truncated at byte {start} (need {stop - start} more of {end})")


def decode_insert(data: bytes) -> tuple[int, TupleData] | None:
    """The relation id and new row of an Insert outside a streamed transaction, or None
    when ``data`` is some other message: the bulk of every stream, read without the
    generic reader or a message object."""
    if len(data) < 7 or data[0] != 0x49 or data[5] != 0x4E:  # 'I' ... 'N'
        return None
    values, end = read_tuple(data, 6)
    if end != len(data):
        raise ProtocolError(f"{len(data) - end} unexpected trailing bytes")
    relation_id: int = _U32.unpack_from(data, 1)[0]
    return relation_id, values


def decode(data: bytes, *, in_stream: bool = False) -> Message:
    """Decode one pgoutput message.

    Parameters:
        data: the payload of one ``XLogData`` message.
        in_stream: True between Stream Start and Stream Stop (protocol version 2), where
            the row, relation, type, truncate and message messages carry a transaction id.
    """
    if type(data) is not bytes:
        data = bytes(data)
    if not data:
        raise ProtocolError("empty message")
    if not in_stream and len(data) >= 7:
        # Row changes, the bulk of every stream, without the generic reader.
        first = data[0]
        if first == 0x49:  # 'I'
            insert = decode_insert(data)
            if insert is not None:
                return Insert(None, insert[0], insert[1])
        elif first == 0x55:  # 'U'
            return _update_v1(data)
        elif first == 0x44:  # 'D'
            return _delete_v1(data)
    reader = _Reader(data)
    kind = reader.char()
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise ProtocolError(f"unknown message type {kind!r}")
    message = decoder(reader, in_stream)
    reader.done()
    return message


def _marker(data: bytes, pos: int) -> int:
    if pos >= len(data):
        raise ProtocolError(f"message truncated at byte {pos} (need 1 more of {len(data)})")
    return data[pos]


def _update_v1(data: bytes) -> Update:
    """An Update outside a streamed transaction (at least 7 bytes long)."""
    relation_id: int = _U32.unpack_from(data, 1)[0]
    marker = data[5]
    old_kind: str | None = None
    old: TupleData | None = None
    pos = 5
    if marker == 0x4B or marker == 0x4F:  # 'K' key, 'O' old row
        old_kind = chr(marker)
        old, pos = read_tuple(data, 6)
        marker = _marker(data, pos)
    if marker != 0x4E:
        raise ProtocolError(f"expected 'N' in update at byte {pos}, got {chr(marker)!r}")
    new, end = read_tuple(data, pos + 1)
    if end != len(data):
        raise ProtocolError(f"{len(data) - end} unexpected trailing bytes")
    return Update(None, relation_id, old_kind, old, new)


def _delete_v1(data: bytes) -> Delete:
    """A Delete outside a streamed transaction (at least 7 bytes long)."""
    relation_id: int = _U32.unpack_from(data, 1)[0]
    marker = data[5]
    if marker != 0x4B and marker != 0x4F:
        raise ProtocolError(f"expected 'K' or 'O' in delete, got {chr(marker)!r}")
    old, end = read_tuple(data, 6)
    if end != len(data):
        raise ProtocolError(f"{len(data) - end} unexpected trailing bytes")
    return Delete(None, relation_id, chr(marker), old)


def _xid(reader: _Reader, in_stream: bool) -> int | None:
    return reader.u32() if in_stream else None


def _begin(reader: _Reader, _: bool) -> Begin:
    final_lsn = reader.u64()
    commit_ts = pg_timestamp_to_unix_micros(reader.i64())
    return Begin(final_lsn=final_lsn, commit_ts=commit_ts, xid=reader.u32())


def _commit(reader: _Reader, _: bool) -> Commit:
    flags = reader.byte()
    commit_lsn = reader.u64()
    end_lsn = reader.u64()
    commit_ts = pg_timestamp_to_unix_micros(reader.i64())
    return Commit(flags=flags, commit_lsn=commit_lsn, end_lsn=end_lsn, commit_ts=commit_ts)


def _origin(reader: _Reader, _: bool) -> Origin:
    return Origin(commit_lsn=reader.u64(), name=reader.string())


def _relation(reader: _Reader, in_stream: bool) -> Relation:
    xid = _xid(reader, in_stream)
    relation_id = reader.u32()
    namespace = reader.string()
    name = reader.string()
    replica_identity = reader.char()
    columns = tuple(
        RelationColumn(flags=reader.byte(), name=reader.string(), type_oid=reader.u32(), type_modifier=reader.i32())
        for _ in range(reader.i16())
    )
    return Relation(xid, relation_id, namespace, name, replica_identity, columns)


def _type(reader: _Reader, in_stream: bool) -> Type:
    xid = _xid(reader, in_stream)
    return Type(xid=xid, type_oid=reader.u32(), namespace=reader.string(), name=reader.string())


def _expect(reader: _Reader, wanted: str) -> None:
    got = reader.char()
    if got != wanted:
        raise ProtocolError(f"expected {wanted!r} at byte {reader.pos - 1}, got {got!r}")


def _insert(reader: _Reader, in_stream: bool) -> Insert:
    xid = _xid(reader, in_stream)
    relation_id = reader.u32()
    _expect(reader, "N")
    return Insert(xid=xid, relation_id=relation_id, new=reader.tuple_data())


def _update(reader: _Reader, in_stream: bool) -> Update:
    xid = _xid(reader, in_stream)
    relation_id = reader.u32()
    marker = reader.char()
    old_kind: str | None = None
    old: TupleData | None = None
    if marker in ("K", "O"):
        old_kind, old = marker, reader.tuple_data()
        marker = reader.char()
    if marker != "N":
        raise ProtocolError(f"expected 'N' in update at byte {reader.pos - 1}, got {marker!r}")
    return Update(xid=xid, relation_id=relation_id, old_kind=old_kind, old=old, new=reader.tuple_data())


def _delete(reader: _Reader, in_stream: bool) -> Delete:
    xid = _xid(reader, in_stream)
    relation_id = reader.u32()
    old_kind = reader.char()
    if old_kind not in ("K", "O"):
        raise ProtocolError(f"expected 'K' or 'O' in delete, got {old_kind!r}")
    return Delete(xid=xid, relation_id=relation_id, old_kind=old_kind, old=reader.tuple_data())


def _truncate(reader: _Reader, in_stream: bool) -> Truncate:
    xid = _xid(reader, in_stream)
    count = reader.i32()
    options = reader.byte()
    return Truncate(xid=xid, options=options, relation_ids=tuple(reader.u32() for _ in range(count)))


def _message(reader: _Reader, in_stream: bool) -> LogicalMessage:
    xid = _xid(reader, in_stream)
    transactional = bool(reader.byte() & 1)
    lsn = reader.u64()
    prefix = reader.string()
    content = reader.raw(reader.i32())
    return LogicalMessage(xid=xid, transactional=transactional, lsn=lsn, prefix=prefix, content=content)


def _stream_start(reader: _Reader, _: bool) -> StreamStart:
    return StreamStart(xid=reader.u32(), first_segment=reader.byte() == 1)


def _stream_stop(reader: _Reader, _: bool) -> StreamStop:
    return StreamStop()


def _stream_commit(reader: _Reader, _: bool) -> StreamCommit:
    xid = reader.u32()
    flags = reader.byte()
    commit_lsn = reader.u64()
    end_lsn = reader.u64()
    commit_ts = pg_timestamp_to_unix_micros(reader.i64())
    return StreamCommit(xid=xid, flags=flags, commit_lsn=commit_lsn, end_lsn=end_lsn, commit_ts=commit_ts)


def _stream_abort(reader: _Reader, _: bool) -> StreamAbort:
    return StreamAbort(xid=reader.u32(), subxid=reader.u32())


_DECODERS: dict[str, Callable[[_Reader, bool], Message]] = {
    "B": _begin,
    "C": _commit,
    "O": _origin,
    "R": _relation,
    "Y": _type,
    "I": _insert,
    "U": _update,
    "D": _delete,
    "T": _truncate,
    "M": _message,
    "S": _stream_start,
    "E": _stream_stop,
    "c": _stream_commit,
    "A": _stream_abort,
}
