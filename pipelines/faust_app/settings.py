"""Settings of the Faust worker (``faust -A pipelines.app worker``), prefix ``RUSTOK_FAUST_``.

Loaded once when ``pipelines.app`` is imported and passed down; nothing else in the
worker reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.captured import CAPTURED_TABLES
from contracts.topics import dlq_topic, docs_topic, table_topic
from pipelines.model import DocType

DOC_TYPES: tuple[DocType, ...] = ("product", "content")
# The outbox is routed to ``<prefix>.events.*`` by Debezium and carries nothing the read model uses.
PROJECTED_TABLES: tuple[str, ...] = tuple(t for t in CAPTURED_TABLES if t != "outbox")


class FaustSettings(BaseSettings):
    """Parameters:
    broker: Kafka bootstrap servers (``host:port``, comma separated).
    topic_prefix: Debezium's ``topic.prefix``; source, docs and DLQ topics derive from it.
    database_url: the PostgreSQL holding the read tables and ``pipeline_checkpoints``.
    index_dir: this node's Tantivy folder (``<doc_type>/v<index_version>/`` inside).
    index_version: the read-model version the sinks write (a rebuild uses a new one).
    app_id: Faust app id = Kafka consumer group = prefix of the table changelog topics.
    pipeline: name in ``pipeline_checkpoints`` and metrics.
    slot_name: Debezium's replication slot, whose confirmed LSN drives the checkpoint.
    store: ``memory`` tables rebuilt from their changelog topics on start (RocksDB is
        not installed here; ``rocksdb`` is accepted for deployments that have it).
    web_port: Faust's web server; ``/metrics`` serves Prometheus metrics there.
    batch_size, batch_within: micro-batch bounds for ``stream.take``.
    checkpoint_interval: seconds between checkpoint rounds.
    commit_interval: seconds between Kafka offset commits.
    fetch_max_wait: seconds the broker may hold the worker's fetch request when it finds no
        records (Faust's own 1.5 s stalls busy partitions: ``pipelines.faust_app.transport``).
    session_timeout: seconds before the group gives a silent (killed) worker's partitions
        to a restarted one; the broker's minimum is 6.
    """

    model_config = SettingsConfigDict(env_prefix="RUSTOK_FAUST_", frozen=True, extra="ignore")

    broker: str = "127.0.0.1:19092"
    topic_prefix: str = Field(default="rustok", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/rustok")
    index_dir: Path = Path(".rustok/faust-index")
    index_version: int = Field(default=1, ge=1)
    app_id: str = Field(default="rustok-pipelines", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    pipeline: str = "faust"
    slot_name: str = "rustok_debezium"
    store: Literal["memory", "rocksdb"] = "memory"
    web_port: int = Field(default=6066, ge=1, le=65535)
    batch_size: int = Field(default=2000, ge=1)
    batch_within: float = Field(default=0.05, gt=0)
    checkpoint_interval: float = Field(default=0.2, gt=0)
    commit_interval: float = Field(default=0.5, gt=0)
    fetch_max_wait: float = Field(default=0.1, gt=0, le=30)
    session_timeout: float = Field(default=10.0, ge=6.0)

    @property
    def source_topics(self) -> tuple[str, ...]:
        return tuple(table_topic(table, prefix=self.topic_prefix) for table in PROJECTED_TABLES)

    @property
    def docs_topics(self) -> dict[DocType, str]:
        return {doc_type: docs_topic(doc_type, prefix=self.topic_prefix) for doc_type in DOC_TYPES}

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(prefix=self.topic_prefix)

    @property
    def store_url(self) -> str:
        return "rocksdb://" if self.store == "rocksdb" else "memory://"
