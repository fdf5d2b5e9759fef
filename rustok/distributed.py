"""The distributed runtime, locally: Kafka, Kafka Connect with Debezium, a Faust worker.

``DistributedPipeline`` has the same lifecycle as ``EmbeddedPipeline`` (start, stop,
``failed``, ``index_versions``) so ``rustok up --kafka`` serves the same APIs over it:

1. the local KRaft broker and Connect worker start (``connectors.kafka_runtime``; the
   jars come from Maven Central through ``scripts/install_kafka_deps.sh``);
2. every table topic is created with one partition (the Faust app's joins run
   single-partition, see ``pipelines.faust_app.state``);
3. the Debezium connector is registered against the database (idempotent: a restart
   finds it and Debezium resumes from its committed offsets);
4. ``faust -A pipelines.app worker`` runs as a child process with ``RUSTOK_FAUST_*``
   settings; its read tables and Tantivy index are what the search API serves;
5. ``start()`` returns once the worker's checkpoint has reached the WAL position of
   the moment it began: every commit made before the start (the snapshot on a first
   start, what happened while stopped on a later one) is searchable, as with
   ``EmbeddedPipeline.start()``. A worker that exits or misses ``ready_timeout``
   fails the start (:class:`PipelineNotReady`, naming the worker's log).

``stop()`` terminates the worker (it flushes its sinks and commits offsets on SIGTERM)
and stops Connect and the broker; their data stays under ``<state_dir>/kafka``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime, install_jars
from contracts.topics import table_topic
from pipelines.faust_app.settings import PROJECTED_TABLES
from pipelines.model import DocType
from pipelines.runtime.checkpoints import PostgresCheckpoints
from rustok.postgres import current_wal_lsn
from rustok.serve import free_port

log = logging.getLogger(__name__)


class PipelineNotReady(RuntimeError):
    """The Faust worker exited, or did not catch up with the database in time, during ``start()``."""


@dataclass(frozen=True)
class DistributedOptions:
    database_url: str
    state_dir: Path
    topic_prefix: str = "rustok"
    pipeline: str = "faust"
    slot_name: str = "rustok_debezium"
    ready_timeout: float = 300.0  # seconds start() waits for the worker to apply what was committed before it

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "faust-index"


class DistributedPipeline:
    def __init__(self, options: DistributedOptions, runtime: KafkaRuntime | None = None) -> None:
        """``runtime``: an already running Kafka stack to use (and leave running); None starts our own."""
        self.options = options
        self._owns_runtime = runtime is None
        self.runtime = runtime or KafkaRuntime(options.state_dir / "kafka", install_jars())
        self.worker: subprocess.Popen[bytes] | None = None
        self.web_port = free_port()
        self.index_versions: dict[DocType, int] = {"product": 1, "content": 1}
        self.caught_up_seconds: float | None = None  # how long start() waited for the worker

    @property
    def failed(self) -> BaseException | None:
        if self.worker is not None and self.worker.poll() is not None:
            return RuntimeError(f"the Faust worker exited with code {self.worker.returncode}; "
                                f"see {self.options.state_dir / 'faust-worker.log'}")
        return None

    def start(self) -> None:
        status = self.runtime.up()
        create_source_topics(status.bootstrap_servers, self.options.topic_prefix)
        options = self.options
        began_at = current_wal_lsn(options.database_url)
        config = registration.load_config(topic_prefix=options.topic_prefix,
                                          **registration.connection_settings(options.database_url),
                                          **{"slot.name": options.slot_name, "heartbeat.interval.ms": "500"})
        self.connector_name = f"{options.topic_prefix}-postgres"
        registration.register(status.connect_url, config, name=self.connector_name)
        env = {**os.environ, "RUSTOK_FAUST_BROKER": status.bootstrap_servers,
               "RUSTOK_FAUST_TOPIC_PREFIX": options.topic_prefix,
               # The consumer group and the tables' changelog topics: one set per platform, never
               # another platform's state restored from a shared broker.
               "RUSTOK_FAUST_APP_ID": f"{options.topic_prefix}-pipelines",
               "RUSTOK_FAUST_DATABASE_URL": options.database_url,
               "RUSTOK_FAUST_INDEX_DIR": str(options.index_dir), "RUSTOK_FAUST_PIPELINE": options.pipeline,
               "RUSTOK_FAUST_SLOT_NAME": options.slot_name, "RUSTOK_FAUST_WEB_PORT": str(self.web_port)}
        faust = Path(sys.executable).with_name("faust")
        with open(options.state_dir / "faust-worker.log", "ab") as out:
            self.worker = subprocess.Popen([str(faust), "-A", "pipelines.app", "worker", "-l", "info"],
                                           cwd=options.state_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
        log.info("faust worker started", extra={"pid": self.worker.pid, "web_port": self.web_port})
        self._wait_applied(began_at)

    def _wait_applied(self, lsn: int) -> None:
        """Block until the pipeline's checkpoint reaches ``lsn`` (Debezium's heartbeat moves the
        slot, and with it the checkpoint, past WAL that has no change to apply)."""
        started = time.monotonic()
        checkpoints = PostgresCheckpoints(self.options.database_url, self.options.pipeline)
        try:
            while True:
                checkpoint = checkpoints.load()
                if checkpoint is not None and checkpoint.applied_commit_lsn >= lsn:
                    self.caught_up_seconds = time.monotonic() - started
                    log.info("faust worker caught up", extra={"lsn": lsn, "seconds": round(self.caught_up_seconds, 2)})
                    return
                if (failed := self.failed) is not None:
                    raise PipelineNotReady(str(failed))
                if time.monotonic() - started > self.options.ready_timeout:
                    raise PipelineNotReady(
                        f"the Faust worker had not applied the commits made before its start within "
                        f"{self.options.ready_timeout:g} s; see {self.options.state_dir / 'faust-worker.log'}")
                time.sleep(0.1)
        finally:
            checkpoints.close()

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(60)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        if self._owns_runtime:
            self.runtime.down()


def create_source_topics(bootstrap: str, prefix: str) -> None:
    """Every projected table's topic, one partition, before Debezium and the worker start.

    Idle tables get their topic too, so the worker subscribes to all of them from the start.
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        topics = [NewTopic(table_topic(t, prefix=prefix), 1, 1) for t in PROJECTED_TABLES]
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(topics)
    finally:
        admin.close()
