"""The applied position of the Kafka runtime: when a consistency token is reached.

With one topic per table there is no single stream position to checkpoint, so a
checkpoint round derives one from Debezium's replication slot:

1. read the slot's ``confirmed_flush_lsn`` L (and the server's WAL end, for lag).
   Debezium confirms an LSN only after Kafka Connect committed the offsets of the
   records up to it, which it does after the broker acknowledged them: every change
   committed at or below L is already in a table topic;
2. read the end offsets S of every source topic, *after* step 1;
3. wait until the project stage has durably handled every source partition up to S
   (its documents and dead letters published and flushed, its state in the changelog);
4. read the end offsets D of the documents topics, *after* step 3;
5. wait until the index stage has flushed every sink up to D;
6. save L as ``applied_commit_lsn`` of the pipeline in ``pipeline_checkpoints``.

So L is published only once every commit at or below it is visible in every sink,
and never before. A stage's progress is the larger of what it acknowledged in this
process and what its consumer group committed (after a restart, idle partitions are
done up to their committed offset).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from pipelines.runtime.checkpoints import PostgresCheckpoints
from pipelines.runtime.metrics import PipelineMetrics

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

Partition = tuple[str, int]
COMMITTED_REFRESH = 0.5  # seconds between reads of the group's committed offsets while waiting


class Progress:
    """The next offset a stage has durably handled, per (topic, partition)."""

    def __init__(self) -> None:
        self._next: dict[Partition, int] = {}

    def advance(self, topic: str, partition: int, next_offset: int) -> None:
        key = (topic, partition)
        if next_offset > self._next.get(key, 0):
            self._next[key] = next_offset

    def missing(self, ends: Mapping[Partition, int], committed: Mapping[Partition, int]) -> dict[Partition, int]:
        """Partitions not yet handled up to ``ends``: partition → offsets still to go."""
        behind = {}
        for key, end in ends.items():
            done = max(self._next.get(key, 0), committed.get(key, 0))
            if done < end:
                behind[key] = end - done
        return behind


class Offsets(Protocol):
    def end_offsets(self, topics: Iterable[str]) -> dict[Partition, int]:
        """End offsets of every partition of the topics that exist."""

    def committed(self, group: str) -> dict[Partition, int]:
        """Offsets ``group`` committed."""


class KafkaOffsets:
    """:class:`Offsets` read with kafka-python (blocking; call from a thread)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None,
                                       enable_auto_commit=False, client_id="rustok-faust-checkpoint")
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="rustok-faust-checkpoint")

    def end_offsets(self, topics: Iterable[str]) -> dict[Partition, int]:
        partitions = []
        for topic in topics:
            numbers = self._consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, n) for n in sorted(numbers)]
        if not partitions:
            return {}
        ends: dict[Any, int] = self._consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}

    def committed(self, group: str) -> dict[Partition, int]:
        found: dict[str, dict[Any, Any]] = self._admin.list_group_offsets({group: None})
        return {(tp.topic, tp.partition): int(meta.offset) for tp, meta in found.get(group, {}).items()
                if meta.offset >= 0}

    def close(self) -> None:
        self._consumer.close()
        self._admin.close()


def slot_position(database_url: str, slot_name: str) -> tuple[int | None, int]:
    """(the slot's confirmed_flush_lsn or None, the server's current WAL end) as integers."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = %s),"
            " pg_current_wal_lsn() - '0/0'::pg_lsn", (slot_name,)).fetchone()
    assert row is not None
    confirmed, end = row
    return (None if confirmed is None else int(confirmed)), int(end)


@dataclass(frozen=True, slots=True)
class Topology:
    group: str
    source_topics: tuple[str, ...]
    docs_topics: tuple[str, ...]
    slot_name: str
    database_url: str


class Checkpointer:
    """Runs checkpoint rounds (see module doc); call :meth:`round` periodically.

    Parameters:
        topology: consumer group, topics, slot and database.
        offsets: end and committed offsets (Kafka).
        project, index: progress of the two stages, advanced by the agents.
        checkpoints: where the applied position is saved.
        metrics: applied LSN and lag.
        stage_timeout: seconds a round waits for a stage before giving up (it retries next round).
    """

    def __init__(self, topology: Topology, offsets: Offsets, project: Progress, index: Progress,
                 checkpoints: PostgresCheckpoints, metrics: PipelineMetrics, stage_timeout: float = 30.0) -> None:
        self._topology = topology
        self._offsets = offsets
        self._project = project
        self._index = index
        self._checkpoints = checkpoints
        self._metrics = metrics
        self._timeout = stage_timeout
        self.applied: int | None = None

    async def round(self) -> int | None:
        """One round; returns the position saved, or None when nothing new was applied."""
        topology = self._topology
        confirmed, wal_end = await asyncio.to_thread(slot_position, topology.database_url, topology.slot_name)
        if confirmed is None:
            return None
        if self.applied is not None and confirmed <= self.applied:
            self._metrics.applied(self.applied, wal_end)
            return None
        if not await self._wait_stage("project", self._project, topology.source_topics):
            return None
        if not await self._wait_stage("index", self._index, topology.docs_topics):
            return None
        await asyncio.to_thread(self._checkpoints.save, confirmed, None, 0)
        self.applied = confirmed
        self._metrics.applied(confirmed, wal_end)
        return confirmed

    async def _wait_stage(self, name: str, progress: Progress, topics: tuple[str, ...]) -> bool:
        ends = await asyncio.to_thread(self._offsets.end_offsets, topics)
        deadline = time.monotonic() + self._timeout
        committed: dict[Partition, int] = {}
        committed_at = 0.0
        while True:
            behind = progress.missing(ends, committed)
            if not behind:
                return True
            now = time.monotonic()
            if now > deadline:
                log.info("checkpoint round gave up waiting", extra={"stage": name, "behind": sum(behind.values())})
                return False
            if now - committed_at >= COMMITTED_REFRESH:
                # Partitions idle since a restart are done up to what the group committed.
                committed = await asyncio.to_thread(self._offsets.committed, self._topology.group)
                committed_at = now
                continue
            await asyncio.sleep(0.01)
