"""Archiving from Kafka: the Debezium source topics, consumer group ``rustok-archive``.

Every partition of every captured table's topic is assigned to the archive (no
rebalancing: one archiver per directory). Where to start comes from the manifest's
offsets, written with the parts; the group's committed offsets follow the manifest
(for lag monitoring and as a fallback when a manifest has none), then the beginning.
Offsets are committed only after the parts and the manifest are durable, so a run that
dies repeats events on the next one, never skips them.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from contracts.captured import CAPTURED_TABLES
from contracts.envelope import InvalidChangeEvent, parse_change_event
from contracts.topics import table_topic

from .embedded import ArchiveRunReport
from .errors import ArchiveLayoutError
from .parts import ArchiveDirectory
from .rows import KafkaPosition, flatten

log = logging.getLogger(__name__)

GROUP = "rustok-archive"


@dataclass(frozen=True)
class KafkaArchiveOptions:
    """Parameters:
    bootstrap_servers: the Kafka brokers.
    directory: the archive directory.
    topic_prefix: Debezium's topic prefix.
    follow: keep archiving until stopped instead of stopping at the end offsets of the start.
    part_events: flush a part set at this many buffered events.
    flush_interval: seconds buffered events may wait before a flush.
    """

    bootstrap_servers: str
    directory: Path
    topic_prefix: str = "rustok"
    follow: bool = False
    part_events: int = 50_000
    flush_interval: float = 5.0


def _kafka() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
        import kafka
    return kafka


def archive_kafka(options: KafkaArchiveOptions, on_events: Callable[[int], None] | None = None,
                  stop: threading.Event | None = None) -> ArchiveRunReport:
    """Archive the source topics up to their end offsets at start (or until ``stop``)."""
    kafka = _kafka()
    started = time.monotonic()
    directory = ArchiveDirectory(options.directory)
    manifest = directory.manifest
    if manifest.source not in (None, "kafka"):
        raise ArchiveLayoutError(f"{options.directory} archives the {manifest.source} source, not Kafka")
    manifest.source = "kafka"
    consumer = kafka.KafkaConsumer(bootstrap_servers=options.bootstrap_servers, group_id=GROUP,
                                   enable_auto_commit=False, auto_offset_reset="earliest")
    stop = stop or threading.Event()
    run = _Run(directory, consumer, kafka)
    try:
        partitions = run.assign(options.topic_prefix)
        ends = consumer.end_offsets(partitions)
        last_flush = time.monotonic()
        while not stop.is_set():
            polled = consumer.poll(timeout_ms=200)
            added = run.take(polled)
            if on_events is not None and added:
                on_events(added)
            if len(run.rows) >= options.part_events or (run.rows and time.monotonic() - last_flush > options.flush_interval):
                run.flush()
                last_flush = time.monotonic()
            if not options.follow and all(consumer.position(tp) >= end for tp, end in ends.items()):
                break
        run.flush()
    finally:
        consumer.close()
    return ArchiveRunReport(sum(run.per_table.values()), dict(sorted(run.per_table.items())), run.parts,
                            run.skipped, time.monotonic() - started, None)


class _Run:
    def __init__(self, directory: ArchiveDirectory, consumer: Any, kafka: Any) -> None:
        self.directory = directory
        self.consumer = consumer
        self.kafka = kafka
        self.rows: list[dict[str, Any]] = []
        self.next_offsets: dict[str, int] = {}
        self.per_table: dict[str, int] = {}
        self.parts = 0
        self.skipped = 0

    def assign(self, prefix: str) -> list[Any]:
        TopicPartition = self.kafka.TopicPartition
        existing = self.consumer.topics()
        partitions = [TopicPartition(topic, p) for table in CAPTURED_TABLES
                      if (topic := table_topic(table, prefix=prefix)) in existing
                      for p in sorted(self.consumer.partitions_for_topic(topic) or ())]
        self.consumer.assign(partitions)
        saved = self.directory.manifest.offsets
        for tp in partitions:
            offset = saved.get(f"{tp.topic}:{tp.partition}")
            if offset is None:
                offset = self.consumer.committed(tp)
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        return partitions

    def take(self, polled: dict[Any, list[Any]]) -> int:
        added = 0
        for tp, messages in polled.items():
            first_seq = self.directory.take_seq(len(messages))
            for n, message in enumerate(messages):
                self.next_offsets[f"{tp.topic}:{tp.partition}"] = message.offset + 1
                if message.value is None:
                    continue  # a tombstone after a delete
                try:
                    event = parse_change_event(message.value)
                except InvalidChangeEvent as exc:
                    self.skipped += 1
                    log.warning("message is not a change event; not archived",
                                extra={"topic": tp.topic, "partition": tp.partition, "offset": message.offset,
                                       "reason": str(exc)})
                    continue
                key = None if message.key is None else orjson.loads(message.key)
                position = KafkaPosition(tp.topic, tp.partition, message.offset)
                self.rows.append(flatten(event, key, first_seq + n, position))
                added += 1
        return added

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        written = self.directory.write_rows(rows)
        self.directory.manifest.offsets.update(self.next_offsets)
        self.directory.commit()
        if self.next_offsets:
            OffsetAndMetadata = self.kafka.OffsetAndMetadata
            TopicPartition = self.kafka.TopicPartition
            offsets = {}
            for name, offset in self.next_offsets.items():
                topic, partition = name.rsplit(":", 1)
                offsets[TopicPartition(topic, int(partition))] = OffsetAndMetadata(offset, "", -1)
            self.consumer.commit(offsets)
        self.parts += len(written)
        for row in rows:
            self.per_table[row["table"]] = self.per_table.get(row["table"], 0) + 1
