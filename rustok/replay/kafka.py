"""Replay from the Kafka runtime: Debezium's table topics into a new index version, then the switch.

The source is every projected table topic (``<prefix>.public.<table>``; the outbox,
heartbeat and transaction topics carry no read-model data), read with kafka-python on
assigned partitions: no consumer group, the replay's position per partition lives in
its own state store (``<state_dir>/replays/<id>/state.sqlite``, marks
``kafka:<topic>:<partition>``), committed together with the projection state after the
sinks flushed, so an interrupted replay resumes where its state stands.

Records go through the Faust project stage's adapter (:class:`ProjectStage`: bytes →
connector records → the runtime decoder → the projection core). Topics are not
globally ordered; the core's versioned state makes the final documents independent of
the order, exactly as in the Faust worker.

Where to start (``start``):

* ``earliest``: a full rebuild; the new version is written from nothing.
* a timestamp (ISO 8601) or ``topic:partition:offset,...``: a *repair on top of the
  live version*, refused unless ``on_top`` is set. The projection needs every earlier
  row of a root to build it (an event alone gives a partial document), so the state is
  still warmed from the earliest offsets, without writing; the new version starts as a
  copy of the live one, and only the roots touched at or after the start position are
  rebuilt into it. Partitions a spec does not name start at their end (nothing rebuilt).
  Unknown topics or partitions, offsets outside a partition and unparsable specs are
  refused before anything is written.

Caught up: the live Faust pipeline's checkpoint C (``pipeline_checkpoints``) is read,
then the end offsets E of every assigned partition; once the replay consumed every
partition up to E it holds every commit at or below C (the checkpoint is only
published once those commits are in the topics). It switches with R = C (or, with no
live checkpoint, the highest LSN it read). Handover and cleanup are the embedded
replay's: the Faust worker follows the alias, rewrites its recent emissions and
records its move in ``rustok_pipeline_targets``; the replay waits for that record.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


from contracts.topics import table_topic
from pipelines.faust_app.messages import Origin
from pipelines.faust_app.project import ProjectStage, SourceRecord
from pipelines.faust_app.settings import PROJECTED_TABLES
from pipelines.model import DocType, RootDocuments
from pipelines.runtime.dead_letters import PostgresDeadLetters
from pipelines.sinks.base import Sink
from pipelines.sinks.postgres import PostgresSink
from pipelines.sinks.tantivy_sink import TantivySink
from pipelines.state.sqlite import SqliteStateStore

from .embedded import STATE_FILE, EmbeddedReplay, ReplayOptions, _checkpoint, _wipe
from .errors import ReplayConfigError, ReplayInterrupted
from .manifest import Manifest
from .progress import ReplayProgress
from .tenant import TenantScopedSink
from .versions import clear_versions, switch_aliases

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

log = logging.getLogger(__name__)

Partition = tuple[str, int]
# No tenant has the nil id, so "every tenant but nil" is every tenant: the copy helpers
# of a tenant-scoped replay copy a whole version with it.
_NO_TENANT = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class KafkaReplayOptions(ReplayOptions):
    """Parameters (beyond :class:`ReplayOptions`; ``live_pipeline`` is the Faust pipeline):
    bootstrap: Kafka bootstrap servers.
    start: ``earliest``, an ISO timestamp, or ``topic:partition:offset,...``.
    on_top: required for a start other than ``earliest`` (see the module docstring).
    live_group: the Faust app id; when its consumer group has no members the worker is
        not running and the replay does not wait for it to follow the switch.
    poll_ms, poll_records: one poll's wait and size; each polled batch is durable (sinks
        flushed, state and offsets committed) before the next.
    index_root: the Faust worker's Tantivy folder (its ``index_dir``); default
        ``<state_dir>/index``.
    """

    bootstrap: str = "127.0.0.1:19092"
    start: str = "earliest"
    on_top: bool = False
    live_group: str | None = None
    live_pipeline: str = "faust"
    poll_ms: int = 200
    poll_records: int = 2000
    index_root: Path | None = None

    @property
    def index_dir(self) -> Path:
        return self.index_root if self.index_root is not None else self.state_dir / "index"


@dataclass(frozen=True)
class StartPosition:
    """Per assigned partition, the first offset whose roots are written (earlier ones only warm the state)."""

    offsets: dict[Partition, int]
    earliest: bool


def parse_start(spec: str) -> datetime | dict[Partition, int] | None:
    """``earliest`` → None; an ISO timestamp → datetime; ``topic:partition:offset,...`` → offsets."""
    spec = spec.strip()
    if spec == "earliest":
        return None
    if ":" in spec and not spec[:4].isdigit():
        offsets: dict[Partition, int] = {}
        for part in spec.split(","):
            pieces = part.strip().rsplit(":", 2)
            if len(pieces) != 3 or not pieces[1].isdigit() or not pieces[2].isdigit() or not pieces[0]:
                raise ReplayConfigError(f"bad offset {part!r}: expected topic:partition:offset")
            offsets[(pieces[0], int(pieces[1]))] = int(pieces[2])
        return offsets
    try:
        moment = datetime.fromisoformat(spec)
    except ValueError as exc:
        raise ReplayConfigError(f"--from must be earliest, an ISO timestamp or topic:partition:offset,..."
                                f" got {spec!r}") from exc
    if moment.tzinfo is None:
        raise ReplayConfigError(f"timestamp {spec!r} needs a time zone (e.g. +00:00)")
    return moment


class KafkaReplay(EmbeddedReplay):
    """Parameters: as :class:`EmbeddedReplay`, with :class:`KafkaReplayOptions`.

    The start position is validated against the broker in the constructor: a bad one
    raises :class:`ReplayConfigError` before anything is written.
    """

    def __init__(self, options: KafkaReplayOptions, progress: ReplayProgress | None = None,
                 stop: threading.Event | None = None) -> None:
        super().__init__(options, progress, stop)
        self.kafka = options
        try:
            self._consumer = KafkaConsumer(bootstrap_servers=options.bootstrap, group_id=None,
                                           enable_auto_commit=False, auto_offset_reset="earliest")
        except KafkaError as exc:
            raise ReplayConfigError(f"no Kafka broker at {options.bootstrap}") from exc
        try:
            self._partitions = self._source_partitions()
            self._start = self._start_position(parse_start(options.start))
        except BaseException:
            self._consumer.close()
            raise
        self._max_lsn = 0

    # -- the build phase (the rest is EmbeddedReplay's) -----------------------------------

    def _stream(self, manifest: Manifest, directory: Path) -> Manifest:
        try:
            return self._build(manifest, directory)
        finally:
            self._consumer.close()

    def _build(self, manifest: Manifest, directory: Path) -> Manifest:
        options = self.kafka
        if self._switched(manifest):
            return self._saved(directory, manifest.moved_to("switched"))
        store = SqliteStateStore(directory / STATE_FILE)
        fresh = not any(store.mark(_mark("kafka", tp)) is not None for tp in self._partitions)
        if fresh:
            store.close()
            _wipe(directory / STATE_FILE)
            store = SqliteStateStore(directory / STATE_FILE)
            clear_versions(options.database_url, options.index_dir, manifest.versions)
        start = self._start if fresh else self._saved_start(store)
        if fresh:
            for tp, offset in start.offsets.items():
                store.set_mark(_mark("start", tp), offset)
            store.commit()
        sinks = self._sinks(manifest)
        try:
            if fresh and not start.earliest:
                self._copy_live(manifest, sinks)
            stage = ProjectStage(store, manifest.pipeline, options.topic_prefix)
            self._seek(store, fresh)
            if not start.earliest:
                self.progress.step("warm-up", self._remaining(start.offsets))
                self._consume_to(start.offsets, stage, store, sinks, write=False)
            self.progress.step("catch-up", self._remaining(self._end_offsets()))
            self._consume_to(self._end_offsets(), stage, store, sinks, write=True)
            live = _checkpoint(options.database_url, options.live_pipeline)
            self._consume_to(self._end_offsets(), stage, store, sinks, write=True)  # ends read after the checkpoint
            built = live if live is not None else self._max_lsn
            if manifest.tenant is not None:
                self._sync_others(manifest, sinks)
        finally:
            for sink in sinks:
                sink.close()
            store.close()
        switch_aliases(options.database_url, manifest.versions, built, manifest.pipeline, manifest.tenant)
        return self._saved(directory, manifest.moved_to("switched"))

    def _sinks(self, manifest: Manifest) -> list[Sink]:
        sinks: list[Sink] = []
        for doc_type, version in manifest.versions.items():
            self._tantivy[doc_type] = TantivySink(self.options.index_dir, (doc_type,), version)
            sinks += [PostgresSink(self.options.database_url, (doc_type,), version), self._tantivy[doc_type]]
        if manifest.tenant is not None:
            sinks = [TenantScopedSink(sink, manifest.tenant) for sink in sinks]
        for sink in sinks:
            sink.setup()
        return sinks

    def _copy_live(self, manifest: Manifest, sinks: Sequence[Sink]) -> None:
        """A repair starts from the live version: copy every tenant's rows and Tantivy documents."""
        self._copy_from_live(manifest, _NO_TENANT)

    def _sync_others(self, manifest: Manifest, sinks: Sequence[Sink]) -> None:
        assert manifest.tenant is not None
        for sink in sinks:
            sink.flush()
        self._copy_from_live(manifest, manifest.tenant)

    # -- consuming -----------------------------------------------------------------------

    def _consume_to(self, ends: dict[Partition, int], stage: ProjectStage, store: SqliteStateStore,
                    sinks: Sequence[Sink], write: bool) -> None:
        """Poll until every partition's position reached ``ends``, none beyond it (a partition
        that got there is paused); each polled batch is made durable before the next poll."""
        consumer = self._consumer
        total = self._remaining(ends)
        consumer.resume(*consumer.assignment())
        while True:
            behind = {tp for tp, end in ends.items() if consumer.position(TopicPartition(*tp)) < end}
            done = [TopicPartition(*tp) for tp in ends if tp not in behind]
            if done:
                consumer.pause(*done)
            if not behind:
                break
            if self.stop.is_set():
                raise ReplayInterrupted("replay interrupted; run it again to resume")
            polled = consumer.poll(timeout_ms=self.kafka.poll_ms, max_records=self.kafka.poll_records)
            records = [m for batch in polled.values() for m in batch if m.offset < ends[(m.topic, m.partition)]]
            for tp in polled:  # a fetch may run past the end: come back to it
                if consumer.position(tp) > ends[(tp.topic, tp.partition)]:
                    consumer.seek(tp, ends[(tp.topic, tp.partition)])
            if records:
                self._apply(records, stage, store, sinks, write)
            self.progress.update(max(total - self._remaining(ends), 0), total)
        consumer.resume(*consumer.assignment())

    def _saved_start(self, store: SqliteStateStore) -> StartPosition:
        offsets = {tp: at for tp in self._partitions if (at := store.mark(_mark("start", tp))) is not None}
        return StartPosition(offsets, earliest=not any(offsets.values()))

    def _apply(self, records: Sequence[object], stage: ProjectStage, store: SqliteStateStore,
               sinks: Sequence[Sink], write: bool) -> None:
        batch = [SourceRecord(Origin(m.topic, m.partition, m.offset), m.key, m.value)  # type: ignore[attr-defined]
                 for m in records]
        out = stage.process(batch)
        emitted = out.emissions if write else []
        for sink in sinks:
            sink.write(emitted)
            sink.flush()
        if out.dead:
            PostgresDeadLetters(self.options.database_url).add([letter for letter, _ in out.dead])
        for record in batch:
            store.set_mark(_mark("kafka", (record.origin.topic, record.origin.partition)), record.origin.offset + 1)
        stage.commit()
        self._events += out.events
        self._documents += sum(len(e.documents) for e in emitted)
        self._max_lsn = max([self._max_lsn, *(e.version for e in out.emissions)])

    def _seek(self, store: SqliteStateStore, fresh: bool) -> None:
        consumer = self._consumer
        consumer.assign([TopicPartition(*tp) for tp in self._partitions])
        for tp in self._partitions:
            saved = None if fresh else store.mark(_mark("kafka", tp))
            if saved is None:
                consumer.seek_to_beginning(TopicPartition(*tp))
            else:
                consumer.seek(TopicPartition(*tp), saved)

    def _end_offsets(self) -> dict[Partition, int]:
        ends = self._consumer.end_offsets([TopicPartition(*tp) for tp in self._partitions])
        return {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}

    def _remaining(self, ends: dict[Partition, int]) -> int:
        consumer = self._consumer
        assigned = consumer.assignment()
        return sum(max(end - (consumer.position(TopicPartition(*tp)) if TopicPartition(*tp) in assigned else 0), 0)
                   for tp, end in ends.items())

    # -- the source and the start --------------------------------------------------------

    def _source_partitions(self) -> list[Partition]:
        prefix = self.options.topic_prefix
        existing = self._consumer.topics()
        partitions: list[Partition] = []
        for table in PROJECTED_TABLES:
            topic = table_topic(table, prefix=prefix)
            if topic in existing:
                partitions += [(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise ReplayConfigError(f"no table topics with prefix {prefix!r} on {self.kafka.bootstrap}")
        return partitions

    def _start_position(self, start: datetime | dict[Partition, int] | None) -> StartPosition:
        if start is None:
            return StartPosition({}, earliest=True)
        if not self.kafka.on_top:
            raise ReplayConfigError("a replay from a timestamp or offsets repairs the live version: pass --on-top"
                                    " (or replay --from earliest)")
        tps = [TopicPartition(*tp) for tp in self._partitions]
        ends = self._consumer.end_offsets(tps)
        if isinstance(start, datetime):
            found = self._consumer.offsets_for_times({tp: int(start.timestamp() * 1000) for tp in tps})
            return StartPosition({(tp.topic, tp.partition): (ends[tp] if at is None else int(at.offset))
                                  for tp, at in found.items()}, earliest=False)
        beginnings = self._consumer.beginning_offsets(tps)
        offsets: dict[Partition, int] = {(tp.topic, tp.partition): int(ends[tp]) for tp in tps}
        for (topic, partition), offset in start.items():
            tp = TopicPartition(topic, partition)
            if tp not in ends:
                raise ReplayConfigError(f"{topic}:{partition} is not a partition of a table topic")
            if not beginnings[tp] <= offset <= ends[tp]:
                raise ReplayConfigError(f"offset {offset} of {topic}:{partition} is outside"
                                        f" [{beginnings[tp]}, {ends[tp]}]")
            offsets[(topic, partition)] = offset
        return StartPosition(offsets, earliest=False)

    # -- the live Faust worker -----------------------------------------------------------

    def _live_running(self) -> bool:
        group = self.kafka.live_group
        if group is None:
            return True  # unknown: wait for its move (up to the handover timeout)
        admin = KafkaAdminClient(bootstrap_servers=self.kafka.bootstrap)
        quiet = logging.getLogger("kafka.admin")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # it warns on every call that Faust's member metadata is not its own format
        try:
            described = admin.describe_groups([group])
        finally:
            quiet.setLevel(level)
            admin.close()
        found = described.get(group) if isinstance(described, dict) else None
        return bool(found and found.get("members"))


def _mark(kind: str, tp: Partition) -> str:
    return f"{kind}:{tp[0]}:{tp[1]}"


__all__ = ["KafkaReplay", "KafkaReplayOptions", "parse_start"]
