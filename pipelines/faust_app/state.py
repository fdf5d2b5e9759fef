"""The StateStore port over Faust tables: rows and marks, recovered from changelog topics.

Two tables back the store: ``rows`` (the port's ``"<table>:<id>"`` keys → JSON of
``StoredRow``) and ``marks`` (mark name → integer as JSON). Both are memory tables
with changelog topics: on start Faust replays the changelogs before the agents run,
so the state of every batch whose changelog writes reached Kafka comes back.

Group indexes are not a third table: a row carries its groups, so the index is
rebuilt from ``rows`` when the store loads. Storing it would double the changelog
traffic and could disagree with ``rows`` after a crash between the two writes.

Like the SQLite store, the whole state is served from an :class:`InMemoryStateStore`
and written behind: :meth:`FaustStateStore.commit` sets every key changed since the
last commit on the tables (each set is one changelog record). The runtime flushes the
producer before acknowledging the batch's source offsets, so state is in Kafka before
the source position moves.

Partitioning: the Kafka runtime runs one partition per topic and one worker per
consumer group. Debezium keys table topics by primary key, not by root, and the core
joins rows of many tables and shared dimensions (tenants and locales, categories,
tags, authors) per root; partitioning would need a repartition stage keyed by root and
the dimensions as ``GlobalTable``s read by every worker. With one partition, both
tables are ordinary tables written with the key partitioner (``use_partitioner``),
which maps every key to partition 0. Scaling out is by index nodes on the documents
topics (one consumer group per node), which needs no shared state.

:class:`PartitionZeroTable` is the Faust table both are, sending its changelog in one go
per batch (``publish_changelog``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterator, MutableMapping, Sequence
from typing import Any

import faust
import orjson
from faust.types import TP

from pipelines.errors import StateStoreError
from pipelines.state.memory import InMemoryStateStore
from pipelines.state.port import StoredRow

log = logging.getLogger(__name__)


def encode_row(value: StoredRow) -> bytes:
    return orjson.dumps({"v": value.version, "r": value.row, "g": value.groups})


def decode_row(blob: bytes) -> StoredRow:
    data = orjson.loads(blob)
    flag, lsn = data["v"]
    return StoredRow((int(flag), int(lsn)), data["r"], tuple(data["g"]))


class FaustStateStore:
    """A :class:`~pipelines.state.port.StateStore` persisted to two key-value tables.

    Parameters:
        rows: a mapping of row key → encoded row (a Faust ``Table`` in the worker, a
            dict in unit tests); read once, on first use, so a Faust table is only read
            after its recovery.
        marks: a mapping of mark name → integer as JSON.
    """

    def __init__(self, rows: MutableMapping[str, bytes], marks: MutableMapping[str, bytes]) -> None:
        self._rows = rows
        self._marks = marks
        self._memory: InMemoryStateStore | None = None
        self._dirty_rows: set[str] = set()
        self._dirty_marks: set[str] = set()

    @property
    def memory(self) -> InMemoryStateStore:
        if self._memory is None:
            self._memory = self._load()
        return self._memory

    def _load(self) -> InMemoryStateStore:
        memory = InMemoryStateStore()
        try:
            for key, blob in list(self._rows.items()):
                memory.put(key, decode_row(blob))
            for name, value in list(self._marks.items()):
                memory.set_mark(name, int(orjson.loads(value)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StateStoreError(f"cannot load the state tables: {exc}") from exc
        log.info("state loaded from tables", extra={"rows": len(memory)})
        return memory

    def get(self, key: str) -> StoredRow | None:
        return self.memory.get(key)

    def put(self, key: str, value: StoredRow) -> None:
        self.memory.put(key, value)
        self._dirty_rows.add(key)

    def members(self, group: str) -> list[tuple[str, StoredRow]]:
        return self.memory.members(group)

    def scan(self, table: str) -> Iterator[tuple[str, StoredRow]]:
        return self.memory.scan(table)

    def mark(self, name: str) -> int | None:
        return self.memory.mark(name)

    def set_mark(self, name: str, value: int) -> None:
        self.memory.set_mark(name, value)
        self._dirty_marks.add(name)

    def commit(self) -> None:
        """Write every change since the last commit to the tables (their changelogs)."""
        memory = self.memory
        for key in sorted(self._dirty_rows):
            row = memory.get(key)
            assert row is not None  # put() always stores a value
            self._rows[key] = encode_row(row)
        for name in sorted(self._dirty_marks):
            value = memory.mark(name)
            assert value is not None
            self._marks[name] = orjson.dumps(value)
        log.debug("state committed", extra={"rows": len(self._dirty_rows), "marks": len(self._dirty_marks)})
        self._dirty_rows.clear()
        self._dirty_marks.clear()

    def close(self) -> None:
        self._dirty_rows.clear()
        self._dirty_marks.clear()
        self._memory = None


class PartitionZeroTable(faust.Table):  # type: ignore[type-arg]
    """A table whose changelog is written to partition 0 (see ``pipelines.faust_app.state``),
    in one go per batch by :meth:`publish_changelog`.

    Faust's default takes the partition of the event being processed, which a batch
    from ``take_events`` does not have; its key partitioner needs producer metadata of
    the changelog topic, which it may not have fetched yet. And Faust queues each
    changelog write in its producer buffer, which a background task sends one message
    per event-loop turn: with the index stage's thread holding the GIL, each turn
    waited for it and a batch's changelog took ~3 ms per row. Here ``__setitem__``
    only notes the write and the agent sends them all without yielding to the loop.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self._unsent: dict[Any, Any] = {}

    def partition_for_key(self, key: Any) -> int:
        return 0

    def on_key_set(self, key: Any, value: Any) -> None:
        self._unsent[key] = value  # the last write of a key wins, as compaction would keep it

    def on_key_del(self, key: Any) -> None:
        raise NotImplementedError("the state store never deletes keys")

    async def publish_changelog(self) -> list[Awaitable[Any]]:
        """Send every write noted since the last call; returns the acknowledgement futures.

        Straight to the producer: Faust's ``Topic.send`` machinery cost ~1 ms a message.
        Keys are serialized by the changelog topic itself, as table recovery reads them.
        """
        unsent, self._unsent = self._unsent, {}
        topic = self.changelog_topic
        producer = self.app.producer
        sent = []
        for key, value in unsent.items():
            raw_key, _ = topic.prepare_key(key, self.key_serializer)
            sent.append(await producer.send(topic.get_topic_name(), raw_key, value, 0, None, None))
        return sent

    def persisted(self, acks: Sequence[Any]) -> None:
        """Record the changelog offset the acknowledged writes reached (RocksDB skips recovery up to it)."""
        offsets = [ack.offset for ack in acks if getattr(ack, "topic", None) == self.changelog_topic.get_topic_name()]
        if offsets:
            self.data.set_persisted_offset(TP(self.changelog_topic.get_topic_name(), 0), max(offsets))
