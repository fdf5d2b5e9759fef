"""The Faust app: two agents, one per stage, and the checkpoint task.

* ``project`` consumes every captured table topic, micro-batches with
  ``take_events``, runs the projection core over Faust tables, and publishes each
  root's documents to ``<prefix>.docs.<doc_type>`` and bad events to ``<prefix>.dlq``;
* ``index`` consumes the documents topics and writes the JSONB read tables and this
  node's Tantivy index;
* ``checkpoint`` publishes the applied position (``pipelines.faust_app.checkpoint``);
* ``follow`` keeps the index stage on the live index versions: at most every
  ``ALIAS_CHECK_INTERVAL`` seconds it reads ``read_model_aliases``; when ``rustok replay``
  switched a document type to a new version (built through R, ``rustok_index_builds``),
  it closes that type's sinks, opens the new version's, re-writes its recent emissions
  there (``IndexStage.replace_sinks``) and records the move in ``rustok_pipeline_targets``
  under the pipeline's checkpoint name; the replay waits for that record before it
  deletes the old version. On start the sinks write the live version, or
  ``index_version`` from the settings when that is higher (a rebuild beside the live
  version, which keeps building it: only a move of the alias is followed).

Acknowledgement. ``take_events`` acknowledges a batch's events when the agent asks
for the next batch, and Faust commits acknowledged offsets after flushing its
producer. So each batch is made durable inside the loop body: the project agent
waits until its documents, dead letters and changelog writes are acknowledged by the
broker, the index agent until every sink flushed. A failure inside a batch must not
reach ``take_events`` (its ``finally`` would acknowledge the failed batch): transient
sink errors are retried in place, anything else ends the process at once, without
committing, and a restart replays the batch.

Metrics (``PipelineMetrics``) are served by Faust's web server at ``/metrics``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import faust
import psycopg
from faust.types import TP, EventT, StreamT
from faust.streams import Stream
from prometheus_client import generate_latest

from pipelines.runtime.checkpoints import PostgresCheckpoints
from pipelines.model import DocType
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.runtime.targets import built_through, read_aliases, record_targets
from pipelines.sinks.base import Sink
from pipelines.sinks.errors import SinkBackpressure
from pipelines.sinks.postgres import PostgresSink
from pipelines.sinks.tantivy_sink import TantivySink

from .checkpoint import Checkpointer, KafkaOffsets, Progress, Topology
from .gaps import (
    Continuity, Gap, RangeReader, Record, StoredOffsets, by_partition, record_offsets, stored_offset,
)
from .index import DocsRecord, IndexStage
from .messages import Origin, docs_key, encode_dead_letter, encode_docs
from .project import ProjectStage, SourceRecord
from .settings import FaustSettings
from .state import FaustStateStore
from .transport import Transport

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Record)

EXIT_BATCH_FAILED = 70
SINK_RETRIES = 30
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
# aiokafka's 16 KiB default fills after a few documents messages; a send into a full batch
# then waits for the in-flight batch's ack, so the producer moved ~4 messages per round trip
# (the "producer buffer full" warnings). A batch up to the request size makes sends
# asynchronous again; each batch still waits for every ISR ack (acks=-1) in _drain.
PRODUCER_BATCH_BYTES = 1_000_000
ALIAS_CHECK_INTERVAL = 0.5
RETARGET_TIMEOUT = 120.0
# Every this many source events projected (and after the first batch, which follows the tables'
# recovery), the worker collects garbage once and leaves what survives, the state, to the GC's
# permanent generation (``gc.freeze``). The state is millions of long-lived objects without
# cycles; left to the cyclic GC, a 10k-product worker made a full collection every 2 s, 300-650
# ms each with every agent stopped (208 of them, 47 s, while it worked through the snapshot).
# Frozen objects are still freed by reference counting when a change replaces them.
FREEZE_AFTER_EVENTS = 50_000


def _raw_topic(app: faust.App, names: Sequence[str], **options: Any) -> faust.TopicT:
    return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                     internal=True, partitions=1, **options)


def _origin(event: EventT[bytes]) -> Origin:
    message = event.message
    return Origin(message.topic, message.partition, message.offset)


def _die(stage: str, exc: BaseException) -> None:
    # Ending the process is the only way to keep take_events from acknowledging the batch.
    log.critical("batch failed; exiting without acknowledging it", exc_info=exc, extra={"stage": stage})
    logging.shutdown()
    os._exit(EXIT_BATCH_FAILED)


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


class FaustPipeline:
    """Everything the agents use, built once per worker process."""

    def __init__(self, settings: FaustSettings) -> None:
        self.settings = settings
        self.app = faust.App(
            settings.app_id, broker=f"kafka://{settings.broker}", store=settings.store_url,
            topic_partitions=1, topic_replication_factor=1, table_standby_replicas=0,
            web_host="127.0.0.1", web_port=settings.web_port, consumer_auto_offset_reset="earliest",
            broker_commit_interval=settings.commit_interval, producer_acks=-1, autodiscover=False,
            producer_max_batch_size=PRODUCER_BATCH_BYTES, producer_max_request_size=PRODUCER_BATCH_BYTES,
            broker_session_timeout=settings.session_timeout, broker_heartbeat_interval=1.0,
        )
        # Before anything (a topic, a table) asks the app for its transport.
        self.app.transport = Transport(self.app.conf.broker_consumer, self.app,
                                       fetch_max_wait_ms=round(settings.fetch_max_wait * 1000))
        self.metrics = PipelineMetrics(settings.pipeline)
        self.rows = PartitionZeroTable(self.app, name="rows", key_type=str, value_type=bytes, partitions=1)
        self.marks = PartitionZeroTable(self.app, name="marks", key_type=str, value_type=bytes, partitions=1)
        self.app.tables.add(self.rows)
        self.app.tables.add(self.marks)
        self.store = FaustStateStore(self.rows, self.marks)
        self.project_stage = ProjectStage(self.store, settings.pipeline, settings.topic_prefix)
        self.project_progress = Progress()
        self.index_progress = Progress()
        self.sources = _raw_topic(self.app, settings.source_topics)
        self.docs = {t: _raw_topic(self.app, [name], compacting=True) for t, name in settings.docs_topics.items()}
        self.docs_in = _raw_topic(self.app, list(settings.docs_topics.values()), compacting=True)
        self.dlq = _raw_topic(self.app, [settings.dlq_topic])
        self.docs_names = settings.docs_topics
        self.dlq_name = settings.dlq_topic
        self._index_stage: IndexStage | None = None
        self._versions: dict[DocType, int] = {}
        self._aliases_seen: dict[DocType, int] = {}
        self._sinks: dict[DocType, list[Sink]] = {}
        self._alias_conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._stage_lock = threading.Lock()
        self._declared = False
        # Source events projected since the state was last frozen; the first batch freezes too.
        self._unfrozen_events = FREEZE_AFTER_EVENTS
        self._continuity = Continuity(stored_offset(self.store))
        self._index_continuity: Continuity | None = None
        self._index_offsets = StoredOffsets(settings.database_url.get_secret_value(), settings.app_id)
        self._range_readers: dict[str, RangeReader] = {}

    # -- stage 1 -------------------------------------------------------------------------

    async def declare(self) -> None:
        """Create the topics this worker writes (an agent only declares the ones it reads)."""
        if not self._declared:
            for topic in (self.dlq, *self.docs.values()):
                await topic.maybe_declare()
            self._declared = True

    async def project(self, events: Sequence[EventT[bytes]]) -> None:
        await self.declare()
        started = time.perf_counter()
        batch = [SourceRecord(_origin(e), e.message.key, e.message.value) for e in events]
        batch = await self._with_skipped("source", batch, self._continuity.gaps(batch), SourceRecord)
        out = self.project_stage.process(batch)
        projected = time.perf_counter()
        self.metrics.timed("project", projected - started)
        # Straight to the producer, not faust.Topic.send (see PartitionZeroTable.publish_changelog).
        producer = self.app.producer
        sent: list[Awaitable[Any]] = []
        for emission in out.emissions:
            topic = self.docs_names[emission.root.doc_type]
            sent.append(await producer.send(topic, docs_key(emission.root), encode_docs(emission), None, None, None))
        for letter, origin in out.dead:
            key = letter.event_key.encode() if letter.event_key is not None else None
            sent.append(await producer.send(self.dlq_name, key, encode_dead_letter(letter, origin), None, None, None))
            log.warning("dead letter", extra={"topic": origin.topic, "partition": origin.partition,
                                              "offset": origin.offset, "lsn": letter.source_lsn,
                                              "reason": letter.reason})
        record_offsets(self.store, self._continuity.advance(batch))  # in the changelog with the batch's state
        self.project_stage.commit()
        self._unfrozen_events += len(batch)
        if self._unfrozen_events >= FREEZE_AFTER_EVENTS:
            gc.collect()  # the garbage first: nothing dead is frozen
            gc.freeze()
            self._unfrozen_events = 0
        sent += await self.rows.publish_changelog()
        sent += await self.marks.publish_changelog()
        published = time.perf_counter()
        self.metrics.timed("publish", published - projected)
        acks = await self._drain(sent)
        self.rows.persisted(acks)
        self.marks.persisted(acks)
        self.metrics.timed("acks", time.perf_counter() - published)
        self.metrics.count("project_batches")
        for event in events:
            origin = _origin(event)
            self.project_progress.advance(origin.topic, origin.partition, origin.offset + 1)
        self.metrics.count("source", out.events)
        self.metrics.count("dlq", len(out.dead))

    async def _with_skipped(self, stage: str, batch: list[R], gaps: list[Gap],
                            make: Callable[[Origin, bytes | None, bytes | None], R]) -> list[R]:
        """``batch`` with the records the consumer skipped before or inside it (``gaps``, see
        ``pipelines.faust_app.gaps``) read straight from Kafka; each partition in offset order."""
        if not gaps:
            return batch
        if stage not in self._range_readers:  # one per stage: the two agents' threads may read at once
            self._range_readers[stage] = await asyncio.to_thread(RangeReader, self.settings.broker)
        reader = self._range_readers[stage]
        found: list[R] = [make(Origin(topic, partition, offset), key, value)
                          for (topic, partition), partition_gaps in by_partition(gaps).items()
                          for offset, key, value in await asyncio.to_thread(reader.read_all, partition_gaps)]
        ranges = ", ".join(f"{g.topic}:{g.partition} {g.start}..{g.end - 1}" for g in gaps)
        # Compaction leaves holes in the documents topics that hold nothing to read.
        level = logging.WARNING if found else logging.DEBUG
        log.log(level, "the consumer skipped %s offsets (%s); read %d records directly", stage, ranges, len(found))
        self.metrics.count(f"skipped_{stage}", len(found))
        return sorted([*found, *batch], key=lambda r: (r.origin.topic, r.origin.partition, r.origin.offset))

    async def _drain(self, sent: Sequence[Awaitable[Any]]) -> list[Any]:
        """Wait until the broker acknowledged everything this batch produced, changelogs included;
        returns the record metadata of ``sent``."""
        producer = self.app.producer
        while producer.buffer.size:
            await producer.buffer.flush()
        await producer.flush()
        return list(await asyncio.gather(*sent))

    # -- stage 2 -------------------------------------------------------------------------

    def index_stage(self) -> IndexStage:
        with self._stage_lock:  # the index agent's thread and the follow task's may ask first
            if self._index_stage is None:
                self._index_stage = self._new_index_stage()
            return self._index_stage

    def _new_index_stage(self) -> IndexStage:
        url = self.settings.database_url.get_secret_value()
        with psycopg.connect(url, autocommit=True) as conn:
            aliases = read_aliases(conn)
        # A worker configured for a version above the live one builds it (a rebuild beside the live
        # version); otherwise it writes the live one, which a replay may have moved while it was down.
        self._versions = {dt: max(aliases.get(dt, 0), self.settings.index_version) for dt in self.docs_names}
        self._aliases_seen = aliases
        self._sinks = {dt: self._sinks_of(dt, v) for dt, v in self._versions.items()}
        stage = IndexStage([s for sinks in self._sinks.values() for s in sinks], self.metrics,
                           self.settings.pipeline)
        record_targets(url, self.settings.pipeline, self._versions, self._applied_lsn(url))
        return stage

    def _sinks_of(self, doc_type: DocType, version: int) -> list[Sink]:
        sinks: list[Sink] = [PostgresSink(self.settings.database_url.get_secret_value(), (doc_type,), version),
                             TantivySink(self.settings.index_dir, (doc_type,), version)]
        deadline = time.monotonic() + RETARGET_TIMEOUT
        for sink in sinks:
            while True:  # a replay may still hold the new version's Tantivy writer for a moment
                try:
                    sink.setup()
                    break
                except SinkBackpressure as exc:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(min(exc.retry_after, 0.1))
        return sinks

    def follow_alias(self) -> None:
        """Move the index stage to the versions the aliases point at (blocking; call from a thread)."""
        stage = self.index_stage()
        url = self.settings.database_url.get_secret_value()
        if self._alias_conn is None or self._alias_conn.closed:
            self._alias_conn = psycopg.connect(url, autocommit=True)
        aliases = read_aliases(self._alias_conn)
        # Only a move of the alias is followed, so a rebuild worker stays on the version it builds.
        moved = {dt: v for dt, v in aliases.items()
                 if dt in self._versions and v != self._aliases_seen.get(dt) and v != self._versions[dt]}
        self._aliases_seen = aliases
        if not moved:
            return
        try:
            self._move(stage, moved, url)
        except psycopg.OperationalError as exc:
            # Mid-move the sinks are in an unknown state: the worker ends, and on restart it opens the
            # live versions and records them (``_new_index_stage``), which ends the replay's wait.
            raise RuntimeError(f"moving the index stage to {moved} failed") from exc

    def _move(self, stage: IndexStage, moved: dict[DocType, int], url: str) -> None:
        built = built_through(url, moved)
        added = {dt: self._sinks_of(dt, v) for dt, v in moved.items()}
        through = min(built.values()) if len(built) == len(moved) else None
        retired = [s for dt in moved for s in self._sinks[dt]]
        if not stage.replace_sinks(retired, [s for sinks in added.values() for s in sinks], through):
            log.error("emissions after the new version's build position were already forgotten: the new version"
                      " may miss changes until their roots change again; replay again",
                      extra={"versions": moved, "lsn": through})
        self._sinks.update(added)
        self._versions.update(moved)
        record_targets(url, self.settings.pipeline, moved, self._applied_lsn(url))
        log.info("alias moved: sinks retargeted", extra={"versions": moved, "built_through": built})

    def _applied_lsn(self, url: str) -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT applied_commit_lsn FROM pipeline_checkpoints WHERE pipeline = %s",
                               (self.settings.pipeline,)).fetchone()
        return 0 if row is None else int(str(row[0]))

    async def follow(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.follow_alias)
            except psycopg.OperationalError:
                # Reading the aliases failed: nothing moved, so the next round simply tries again.
                log.warning("could not read the read-model aliases; retrying", exc_info=True)
                if self._alias_conn is not None:
                    self._alias_conn.close()
            except Exception as exc:  # noqa: BLE001 — a half-done move leaves the sinks unknown: see module doc
                _die("follow", exc)
            await asyncio.sleep(ALIAS_CHECK_INTERVAL)

    async def index(self, events: Sequence[EventT[bytes]]) -> None:
        batch = [DocsRecord(_origin(e), e.message.key, e.message.value) for e in events]
        if self._index_continuity is None:  # where the last process left off (see pipelines.faust_app.gaps)
            self._index_continuity = Continuity((await asyncio.to_thread(self._docs_offsets)).get)
        batch = await self._with_skipped("docs", batch, self._index_continuity.gaps(batch), DocsRecord)
        started = time.perf_counter()
        for attempt in range(SINK_RETRIES):
            try:
                out = await asyncio.to_thread(lambda: self.index_stage().process(batch))
                break
            except SinkBackpressure as exc:
                log.warning("sink busy; retrying the batch", extra={"attempt": attempt, "reason": str(exc)})
                await asyncio.sleep(exc.retry_after)
        else:
            raise RuntimeError(f"sinks still failing after {SINK_RETRIES} attempts")
        self.metrics.timed("index", time.perf_counter() - started)
        self.metrics.count("index_batches")
        if out.dead:
            await self.declare()
            await self._drain([await self.app.producer.send(self.dlq_name, None, encode_dead_letter(letter, origin),
                                                            None, None, None) for letter, origin in out.dead])
        await asyncio.to_thread(self._index_offsets.save, self._index_continuity.advance(batch))
        for event in events:
            origin = _origin(event)
            self.index_progress.advance(origin.topic, origin.partition, origin.offset + 1)

    def _docs_offsets(self) -> dict[tuple[str, int], int]:
        """The index stage's stored offsets, or, for a group that has none yet, its commits."""
        stored = self._index_offsets.load()
        if stored:
            return stored
        offsets = KafkaOffsets(self.settings.broker)
        try:
            docs = set(self.docs_names.values())
            return {tp: offset for tp, offset in offsets.committed(self.settings.app_id).items() if tp[0] in docs}
        finally:
            offsets.close()

    # -- checkpoints ---------------------------------------------------------------------

    async def checkpoints(self) -> None:
        settings = self.settings
        url = settings.database_url.get_secret_value()
        topology = Topology(settings.app_id, settings.source_topics, tuple(settings.docs_topics.values()),
                            settings.slot_name, url)
        offsets = await asyncio.to_thread(KafkaOffsets, settings.broker)
        checkpointer = Checkpointer(topology, offsets, self.project_progress, self.index_progress,
                                    PostgresCheckpoints(url, settings.pipeline), self.metrics)
        while True:
            try:
                await checkpointer.round()
            except Exception:  # noqa: BLE001 — a failed round is retried; it never blocks the stages
                log.exception("checkpoint round failed")
            await asyncio.sleep(settings.checkpoint_interval)


def build_app(settings: FaustSettings) -> faust.App:
    """The Faust app for ``settings``, with its agents, task and ``/metrics`` page."""
    pipeline = FaustPipeline(settings)
    app = pipeline.app

    @app.agent(pipeline.sources, name="project")
    async def project(stream: StreamT[Any]) -> None:
        async for events in cast(Stream[bytes], stream).take_events(settings.batch_size, within=settings.batch_within):
            try:
                await pipeline.project(events)
            except Exception as exc:  # noqa: BLE001 — see module doc: never acknowledge a failed batch
                _die("project", exc)

    @app.agent(pipeline.docs_in, name="index")
    async def index(stream: StreamT[Any]) -> None:
        async for events in cast(Stream[bytes], stream).take_events(settings.batch_size, within=settings.batch_within):
            try:
                await pipeline.index(events)
            except Exception as exc:  # noqa: BLE001 — see module doc
                _die("index", exc)

    @app.task  # type: ignore[untyped-decorator]
    async def checkpoint() -> None:
        await pipeline.checkpoints()

    @app.task  # type: ignore[untyped-decorator]
    async def follow() -> None:
        await pipeline.follow()

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type, and CONTENT_TYPE_LATEST has one.
        return web.bytes(generate_latest(pipeline.metrics.registry), content_type=METRICS_CONTENT_TYPE)

    app.rustok_pipeline = pipeline  # type: ignore[attr-defined]  # for introspection in tests and tools
    return app
