"""A Faust worker as a real subprocess, Debezium registration, and waiting helpers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from connectors import debezium_registration as registration
from rustok.distributed import create_source_topics as create_source_topics  # re-exported for the tests
from tests.integration.runtime.readmodel import applied_lsn as applied_lsn

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[3]
FAUST = Path(sys.executable).parent / "faust"


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not met in {timeout:.0f}s: {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass
class Debezium:
    connect_url: str
    database_url: str
    prefix: str
    slot: str
    name: str

    def register(self) -> None:
        config = registration.load_config(topic_prefix=self.prefix, **registration.connection_settings(self.database_url),
                                          **{"slot.name": self.slot, "heartbeat.interval.ms": "500"})
        registration.register(self.connect_url, config, name=self.name, timeout=120)

    def delete(self) -> None:
        registration.delete(self.connect_url, self.name)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            wait_for(lambda: not conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active",
                                              (self.slot,)).fetchone(), 30, "slot released")
            conn.execute("SELECT pg_drop_replication_slot(%s) FROM pg_replication_slots WHERE slot_name = %s",
                         (self.slot, self.slot))


@dataclass
class Worker:
    """``faust -A pipelines.app worker`` with ``RUSTOK_FAUST_*`` settings, in its own folder."""

    workdir: Path
    settings: dict[str, str]
    web_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(REPO), "RUSTOK_FAUST_WEB_PORT": str(self.web_port),
               **{f"RUSTOK_FAUST_{k.upper()}": v for k, v in self.settings.items()}}
        log = (self.workdir / f"worker-{self.starts}.log").open("wb")
        self.starts += 1
        # RUSTOK_FAUST_PROFILE=<file>: run the worker under pyinstrument (a bench aid; stop() writes it).
        profile = os.environ.get("RUSTOK_FAUST_PROFILE")
        prefix = [str(FAUST.parent / "pyinstrument"), "-o", profile, "-r", "text", "--"] if profile else []
        self.process = subprocess.Popen([*prefix, str(FAUST), "-A", "pipelines.app", "worker", "-l", "info"],
                                        cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT if os.environ.get("RUSTOK_FAUST_PROFILE") else signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        logs = sorted(self.workdir.glob("worker-*.log"))
        return logs[-1].read_text(errors="replace")[-chars:] if logs else ""

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    def diagnose(self, database_url: str) -> str:
        """What a stalled worker is doing: its threads' stacks (py-spy), its stage counters,
        the database's sessions and slots, and its log tail; also written to ``diagnosis.txt``
        in its folder, as CI shows only the end of a failure."""
        parts = [f"worker alive: {self.alive()}"]
        if self.alive():
            assert self.process is not None
            spy = subprocess.run([str(FAUST.parent / "py-spy"), "dump", "--pid", str(self.process.pid)],
                                 capture_output=True, text=True, timeout=60, check=False)
            parts.append(f"py-spy dump:\n{spy.stdout}{spy.stderr}")
            try:
                parts.append("metrics:\n" + "\n".join(
                    line for line in self.metrics().splitlines() if line.startswith("rustok_") and "_bucket" not in line))
            except OSError as exc:
                parts.append(f"metrics: {exc}")
        with contextlib.suppress(psycopg.Error), psycopg.connect(database_url, autocommit=True) as conn:
            for query in ("SELECT pid, application_name, state, wait_event_type, wait_event, xact_start, left(query, 160)"
                          " FROM pg_stat_activity WHERE datname = current_database()",
                          "SELECT slot_name, active, confirmed_flush_lsn, pg_current_wal_lsn() FROM pg_replication_slots"
                          " WHERE database = current_database()",
                          "SELECT * FROM pipeline_checkpoints"):
                parts.append(f"{query}:\n" + "\n".join(map(str, conn.execute(query).fetchall())))
        parts.append(f"log tail:\n{self.log_tail(8000)}")
        text = "\n\n".join(parts)
        (self.workdir / "diagnosis.txt").write_text(text)
        return text


def wal_position(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


def produce(bootstrap: str, topic: str, key: bytes | None, value: bytes | None) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(topic, key=key, value=value).get(timeout=30)
    finally:
        producer.close()


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, Any]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        if topic not in consumer.topics():
            return []
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        out: list[tuple[bytes | None, Any]] = []
        while consumer.position(partition) < end:
            for batch in consumer.poll(timeout_ms=300).values():
                out += [(m.key, None if m.value is None else json.loads(m.value)) for m in batch]
        return out
    finally:
        consumer.close()


def documents_at(database_url: str, table: str, index_version: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Documents of one index version by (tenant, locale, id), without their version."""
    id_column = "product_id" if table == "index_products" else "node_id"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT tenant_id::text, locale, {id_column}::text, document FROM {table}"
                            " WHERE index_version = %s", (index_version,)).fetchall()
    return {(t, loc, i): {k: v for k, v in doc.items() if k != "version"} for t, loc, i, doc in rows}


@contextlib.contextmanager
def running(worker: Worker) -> Iterator[Worker]:
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
