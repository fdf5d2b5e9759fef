"""The StateStore port over Faust tables: rows and marks, recovered from changelog topics.

Two tables back the store: ``rows`` (the port's ``"<table>:<id>"`` keys → JSON of
``StoredRow``) and ``marks`` (mark name → integer as JSON). Both are memory tables
with changelog topics: on start Faust replays the changelogs before the agents run,
so the state of every batch whose changelog writes reached Kafka comes back.

Group indexes are not a third table: a row carries its groups, so the index is
rebuilt from ``rows`` when the store loads. Storing it would double the changelog
traffic and could disagree with ``rows`` after a crash between the two writes.

Like the SQLite store while it is small, the whole state is served from an
:class:`InMemoryStateStore` (there is no spilling to disk here: Faust's memory tables hold
it all anyway) and written behind: :meth:`FaustStateStore.commit` sets every key changed since the
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
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping

import orjson

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
