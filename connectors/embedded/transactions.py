"""Turns the decoded pgoutput stream into whole transactions of Debezium records (pure).

What Debezium's PostgreSQL streaming source does per message, reproduced:

* BEGIN: a ``BEGIN`` transaction-metadata record at once (even if no change follows).
* INSERT/UPDATE/DELETE: ``c``/``u``/``d`` events; a delete is followed by a tombstone;
  an update that changes the primary key becomes a delete (+ tombstone) of the old key
  and a create of the new one, with ``__debezium.newkey``/``oldkey`` headers.
* TRUNCATE: one ``t`` event per table unless ``t`` is in ``skipped.operations``.
* COMMIT: the ``END`` record with per-table counts; the commit's LSN becomes the
  ``lastCommitLsn`` in the ``sequence`` of later events.

Each record's ``source.lsn`` is the LSN of the replication message it came from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import pgoutput as pg
from .envelope import EnvelopeBuilder
from .errors import ProtocolError
from .records import ChangeRecord
from .tables import RelationMapping, Row, TableSchema

log = logging.getLogger(__name__)

NEW_KEY_HEADER = "__debezium.newkey"
OLD_KEY_HEADER = "__debezium.oldkey"


class TableResolver(Protocol):
    """Gives the captured table behind a Relation message, or None if it is not captured."""

    def table_for(self, relation: pg.Relation) -> TableSchema | None: ...


@dataclass(frozen=True)
class StreamOptions:
    """The Debezium settings that shape the stream.

    Parameters:
        skipped_operations: ``skipped.operations`` as op letters (``c``, ``u``, ``d``, ``t``).
        tombstones_on_delete: ``tombstones.on.delete``.
        provide_transaction_metadata: ``provide.transaction.metadata``.
    """

    skipped_operations: frozenset[str] = frozenset()
    tombstones_on_delete: bool = True
    provide_transaction_metadata: bool = True


@dataclass(frozen=True, slots=True)
class CompletedTransaction:
    xid: int
    end_lsn: int
    commit_ts: int
    records: tuple[ChangeRecord, ...]


_Pending = tuple[str, "dict[str, Any] | None", "dict[str, Any] | None", int, tuple[tuple[str, Any], ...]]


class _Target:
    """A captured relation with what every event of it needs, worked out once per
    Relation message rather than per event."""

    __slots__ = ("mapping", "table", "topic", "data_collection", "key_names")

    def __init__(self, mapping: RelationMapping, prefix: str) -> None:
        self.mapping = mapping
        self.table = mapping.table
        self.topic = mapping.table.topic(prefix)
        self.data_collection = mapping.table.data_collection
        self.key_names = mapping.table.key_columns

    def key_of(self, row: Row | None) -> Row | None:
        names = self.key_names
        if row is None or not names:
            return None
        if len(names) == 1:
            name = names[0]
            return {name: row.get(name)}
        return {name: row.get(name) for name in names}


_UNKNOWN: Any = object()  # a relation id no Relation message has described


@dataclass
class _OpenTransaction:
    xid: int
    commit_ts: int
    pending: list[_Pending] = field(default_factory=list)
    total: int = 0
    per_table: dict[str, int] = field(default_factory=dict)
    # Per relation: lsn -> the source block (EnvelopeBuilder.streamed_sources).
    sources: dict[_Target, Callable[[int], dict[str, Any]]] = field(default_factory=dict)


class StreamAssembler:
    """Feed it ``(lsn, message)`` in stream order; it returns each transaction when it commits.

    Parameters:
        envelope: builds the Debezium values.
        resolver: looks up the table behind each Relation message.
        options: the Debezium settings in force.
        last_commit_lsn: the previous commit's LSN (first element of ``source.sequence``).
        type_listener: told about Type messages (so the caller can reload its types).
    """

    def __init__(
        self,
        envelope: EnvelopeBuilder,
        resolver: TableResolver,
        options: StreamOptions = StreamOptions(),
        last_commit_lsn: int | None = None,
        type_listener: Callable[[pg.Type], None] | None = None,
    ) -> None:
        self._envelope = envelope
        self._resolver = resolver
        self._options = options
        self.last_commit_lsn = last_commit_lsn
        self._type_listener = type_listener
        self._relations: dict[int, _Target | None] = {}
        self._open: _OpenTransaction | None = None

    @property
    def in_transaction(self) -> bool:
        return self._open is not None

    def feed_payload(self, lsn: int, payload: bytes) -> CompletedTransaction | None:
        """Like :meth:`feed`, from the raw pgoutput message (protocol version 1); an
        Insert goes straight to its event without a message object in between."""
        insert = pg.decode_insert(payload)
        if insert is None:
            return self.feed(lsn, pg.decode(payload))
        self._insert(lsn, insert[0], insert[1])
        return None

    def feed(self, lsn: int, message: pg.Message) -> CompletedTransaction | None:
        if isinstance(message, (pg.Insert, pg.Update, pg.Delete)):
            self._row_change(lsn, message)
        elif isinstance(message, pg.Begin):
            self._begin(lsn, message)
        elif isinstance(message, pg.Commit):
            return self._commit(lsn, message)
        elif isinstance(message, pg.Relation):
            table = self._resolver.table_for(message)
            target = None if table is None else _Target(RelationMapping(message, table), self._envelope.prefix)
            self._relations[message.relation_id] = target
        elif isinstance(message, pg.Truncate):
            self._truncate(lsn, message)
        elif isinstance(message, pg.Type):
            if self._type_listener is not None:
                self._type_listener(message)
        elif isinstance(message, (pg.StreamStart, pg.StreamStop, pg.StreamCommit, pg.StreamAbort)):
            raise ProtocolError("streamed (in-progress) transactions were not requested; protocol version 1 expected")
        # Origin and logical decoding messages do not become change events here.
        return None

    # -- transaction boundaries ------------------------------------------------------

    def _begin(self, lsn: int, message: pg.Begin) -> None:
        if self._open is not None:
            raise ProtocolError(f"BEGIN of {message.xid} inside open transaction {self._open.xid}")
        self._open = _OpenTransaction(xid=message.xid, commit_ts=message.commit_ts)
        if self._options.provide_transaction_metadata:
            key, value = self._envelope.transaction_begin(message.xid, lsn, message.commit_ts)
            self._open.pending.append((self._envelope.transaction_topic, key, value, lsn, ()))

    def _commit(self, lsn: int, message: pg.Commit) -> CompletedTransaction:
        tx = self._require_open("COMMIT")
        if self._options.provide_transaction_metadata:
            key, value = self._envelope.transaction_end(tx.xid, lsn, message.commit_ts, list(tx.per_table.items()))
            tx.pending.append((self._envelope.transaction_topic, key, value, lsn, ()))
        self._open = None
        self.last_commit_lsn = lsn
        end = message.end_lsn
        records = tuple(
            [ChangeRecord(topic, key, value, record_lsn, end, headers) for topic, key, value, record_lsn, headers in tx.pending]
        )
        return CompletedTransaction(xid=tx.xid, end_lsn=end, commit_ts=message.commit_ts, records=records)

    def _require_open(self, what: str) -> _OpenTransaction:
        if self._open is None:
            raise ProtocolError(f"{what} outside a transaction")
        return self._open

    # -- changes ---------------------------------------------------------------------

    def _target(self, relation_id: int) -> _Target | None:
        try:
            return self._relations[relation_id]
        except KeyError:
            raise ProtocolError(f"change for relation {relation_id} before its Relation message") from None

    def _insert(self, lsn: int, relation_id: int, new: pg.TupleData) -> None:
        # The per-row path of bulk inserts: the lookups of _require_open and _target inlined.
        tx = self._open
        if tx is None:
            raise ProtocolError("row change outside a transaction")
        target = self._relations.get(relation_id, _UNKNOWN)
        if target is _UNKNOWN:
            raise ProtocolError(f"change for relation {relation_id} before its Relation message")
        if target is None or "c" in self._options.skipped_operations:
            return
        after = target.mapping.row(new)
        self._emit(tx, target, lsn, "c", None, after, target.key_of(after))

    def _row_change(self, lsn: int, message: pg.Insert | pg.Update | pg.Delete) -> None:
        if isinstance(message, pg.Insert):
            self._insert(lsn, message.relation_id, message.new)
            return
        tx = self._require_open("row change")
        target = self._target(message.relation_id)
        if target is None:
            return
        if isinstance(message, pg.Delete):
            if "d" not in self._options.skipped_operations:
                before = target.mapping.row(message.old)
                self._delete(tx, target, lsn, before, target.key_of(before), ())
        elif "u" not in self._options.skipped_operations:
            self._update(tx, target, lsn, message)

    def _update(self, tx: _OpenTransaction, target: _Target, lsn: int, message: pg.Update) -> None:
        mapping = target.mapping
        before = mapping.row(message.old) if message.old is not None else None
        after = mapping.row(message.new, fallback=before)
        new_key = target.key_of(after)
        old_key = target.key_of(before)
        if old_key is not None and old_key != new_key:
            self._delete(tx, target, lsn, before, old_key, ((NEW_KEY_HEADER, new_key),))
            self._emit(tx, target, lsn, "c", None, after, new_key, ((OLD_KEY_HEADER, old_key),))
        else:
            self._emit(tx, target, lsn, "u", before, after, new_key)

    def _delete(
        self, tx: _OpenTransaction, target: _Target, lsn: int, before: Row | None, key: Row | None,
        headers: tuple[tuple[str, Any], ...],
    ) -> None:
        self._emit(tx, target, lsn, "d", before, None, key, headers)
        if self._options.tombstones_on_delete:
            tx.pending.append((target.topic, key, None, lsn, ()))

    def _truncate(self, lsn: int, message: pg.Truncate) -> None:
        tx = self._require_open("TRUNCATE")
        if "t" in self._options.skipped_operations:
            return
        for relation_id in message.relation_ids:
            target = self._target(relation_id)
            if target is not None:
                self._emit(tx, target, lsn, "t", None, None, None)

    def _emit(
        self,
        tx: _OpenTransaction,
        target: _Target,
        lsn: int,
        op: str,
        before: Row | None,
        after: Row | None,
        key: Row | None,
        headers: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        envelope = self._envelope
        sources = tx.sources.get(target)
        if sources is None:
            table = target.table
            sources = tx.sources[target] = envelope.streamed_sources(
                schema=table.schema, table=table.name, ts_micros=tx.commit_ts,
                last_commit_lsn=self.last_commit_lsn, tx_id=tx.xid,
            )
        block = None
        if self._options.provide_transaction_metadata:
            tx.total += 1
            per_table = tx.per_table
            order = per_table[target.data_collection] = per_table.get(target.data_collection, 0) + 1
            # EnvelopeBuilder.transaction_block, inlined: this runs once per event.
            block = {"id": f"{tx.xid}:{lsn}", "total_order": tx.total, "data_collection_order": order}
        value = envelope.event(op, before, after, sources(lsn), block)
        tx.pending.append((target.topic, key, value, lsn, headers))
