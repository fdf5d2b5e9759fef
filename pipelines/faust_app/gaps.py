"""Offsets the consumer skipped: found per partition and read straight from Kafka.

Faust can hand an agent a partition's records with a hole in them, and commit past it:
records fetched before a rebalance are dropped when flow control suspends the streams
(or skipped, and acknowledged, for a stale generation), and its commit of acknowledged
offsets lets a gap of exactly one record through at the head of a partition
(``Consumer._new_offset``: ``min(acked) - committed > 1``). After a ``kill -9`` the
next worker then starts past a change it never applied, and the read model keeps the
old row for good (seen in ``tests/integration/faust/test_faust_crash.py``: a deleted
product still served, creations missing, a stale stock level).

So the stages do not trust the delivered sequence. :class:`Continuity` remembers the
next offset each partition must deliver and reports the ranges that were skipped;
:class:`RangeReader` reads them with a consumer of its own, and the stage handles them
before the delivered records of the same partition. The project stage keeps its
offsets in its state (marks, so in the changelog with the rows they produced), which
covers gaps committed by an earlier process. The index stage has no state of its own,
so it keeps its offsets in PostgreSQL (:class:`StoredOffsets`, table ``consumer_offsets``),
written once every sink flushed a batch; a consumer group with none stored yet starts
from what it committed to Kafka.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import psycopg

from pipelines.state.port import StateStore

from .messages import Origin

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

Partition = tuple[str, int]
READ_TIMEOUT = 60.0  # seconds to read one skipped range before the batch fails (and the worker restarts)


class Record(Protocol):
    @property
    def origin(self) -> Origin: ...


@dataclass(frozen=True, slots=True)
class Gap:
    """Offsets ``start`` (included) to ``end`` (excluded) of a partition, never delivered."""

    topic: str
    partition: int
    start: int
    end: int


def by_partition(gaps: Iterable[Gap]) -> dict[Partition, list[Gap]]:
    grouped: dict[Partition, list[Gap]] = {}
    for gap in gaps:
        grouped.setdefault((gap.topic, gap.partition), []).append(gap)
    return grouped


def next_offset_mark(topic: str, partition: int) -> str:
    return f"kafka-next:{topic}:{partition}"


class Continuity:
    """The next offset each partition owes.

    Parameters:
        start: the next offset of a partition not seen yet (called once per partition);
            None takes the first delivered offset as the start.
    """

    def __init__(self, start: Callable[[Partition], int | None] = lambda key: None) -> None:
        self._start = start
        self._next: dict[Partition, int] = {}

    def gaps(self, batch: Sequence[Record]) -> list[Gap]:
        """Ranges skipped before or between the batch's records, per partition, in order."""
        expected: dict[Partition, int | None] = {}
        found: list[Gap] = []
        for record in batch:
            key = (record.origin.topic, record.origin.partition)
            if key not in expected:
                expected[key] = self._next[key] if key in self._next else self._start(key)
            want, offset = expected[key], record.origin.offset
            if want is not None and offset > want:
                found.append(Gap(key[0], key[1], want, offset))
            expected[key] = offset + 1 if want is None else max(want, offset + 1)
        return found

    def advance(self, records: Iterable[Record]) -> dict[Partition, int]:
        """Note ``records`` as handled; returns the partitions whose next offset moved, with it."""
        moved: dict[Partition, int] = {}
        for record in records:
            key = (record.origin.topic, record.origin.partition)
            following = record.origin.offset + 1
            if following > self._next.get(key, -1):
                self._next[key] = moved[key] = following
        return moved


def stored_offset(store: StateStore) -> Callable[[Partition], int]:
    """A partition's next offset as the state recorded it (0 when never: a new state starts
    at the beginning of every topic); a :class:`Continuity` start."""
    return lambda key: store.mark(next_offset_mark(*key)) or 0


def record_offsets(store: StateStore, moved: Mapping[Partition, int]) -> None:
    for (topic, partition), following in moved.items():
        name = next_offset_mark(topic, partition)
        if following > (store.mark(name) or 0):
            store.set_mark(name, following)


class RangeReader:
    """Reads given offset ranges with its own consumer (kafka-python; blocking: call from a thread)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
                                       auto_offset_reset="earliest", client_id="rustok-faust-gaps")

    def read_all(self, gaps: Sequence[Gap]) -> list[tuple[int, bytes | None, bytes | None]]:
        """(offset, key, value) of every record in the gaps of one partition that the log still
        holds (a compacted topic may hold none of them), in one pass from the first gap to the
        last (a compacted topic read after cleaning shows many small gaps)."""
        if not gaps:
            return []
        first = gaps[0]
        tp = TopicPartition(first.topic, first.partition)
        start, end = min(g.start for g in gaps), max(g.end for g in gaps)
        consumer = self._consumer
        consumer.assign([tp])
        consumer.seek(tp, start)
        out: list[tuple[int, bytes | None, bytes | None]] = []
        deadline = time.monotonic() + READ_TIMEOUT
        while consumer.position(tp) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {first.topic}:{first.partition} {start}..{end} in {READ_TIMEOUT:.0f}s")
            for messages in consumer.poll(timeout_ms=500).values():
                out += [(m.offset, m.key, m.value) for m in messages
                        if any(g.start <= m.offset < g.end for g in gaps)]
        return out

    def close(self) -> None:
        self._consumer.close()


class StoredOffsets:
    """A consumer group's next offsets in ``consumer_offsets`` (blocking: call from a thread)."""

    def __init__(self, database_url: str, consumer: str) -> None:
        self._url = database_url
        self._consumer = consumer
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._url, autocommit=True)
        return self._conn

    def load(self) -> dict[Partition, int]:
        rows = self._connection().execute(
            "SELECT topic, partition, next_offset FROM consumer_offsets WHERE consumer = %s", (self._consumer,)
        ).fetchall()
        return {(str(topic), int(str(partition))): int(str(offset)) for topic, partition, offset in rows}

    def save(self, moved: Mapping[Partition, int]) -> None:
        """Record the partitions' next offsets; a stored offset never moves back."""
        if not moved:
            return
        with self._connection().cursor() as cursor:
            cursor.executemany(
                "INSERT INTO consumer_offsets AS c (consumer, topic, partition, next_offset) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset ="
                " greatest(c.next_offset, excluded.next_offset), updated_at = now()",
                [(self._consumer, topic, partition, offset) for (topic, partition), offset in moved.items()])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
