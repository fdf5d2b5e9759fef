"""``rustok cdc``: watch change events live, without disturbing the pipeline.

``rustok cdc tail --table T`` streams a TEMPORARY replication slot of its own (dropped
by PostgreSQL when the command exits), so the pipeline's slot and its confirmed
position are never touched; ``--from-beginning`` first prints the table's current rows
(a snapshot, op ``r``). With ``--kafka`` it reads the table's topic instead (from its
start with ``--from-beginning``, else only new records).

Each event is one JSON line: ``op``, ``table``, ``key``, ``lsn``, the commit time, and
``after`` for creates and reads, ``changed`` (column → [before, after]) for updates,
``before`` for deletes; a tombstone is ``{"op": "tombstone", ...}``.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import psycopg
import typer

from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, EmbeddedConnectorError, InMemoryConsumer
from rustok.database import provision
from rustok.postgres import PostgresError
from rustok.settings import get_settings

cdc_app = typer.Typer(help="Watch change data capture (CDC) events.", no_args_is_help=True)

TableOption = Annotated[str, typer.Option("--table", "-t", help="Table to watch: 'name' (schema public) or 'schema.name'.")]
FromBeginning = Annotated[bool, typer.Option("--from-beginning", help="Print existing rows first (--kafka: the topic from its start).")]
Limit = Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Stop after this many events.")]
UseKafka = Annotated[bool, typer.Option("--kafka", help="Read the table's Kafka topic instead of a temporary slot.")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="PostgreSQL URL (default: the configured one).")]
Bootstrap = Annotated[str, typer.Option("--bootstrap-servers", help="Kafka brokers, for --kafka.")]
Prefix = Annotated[str, typer.Option("--prefix", help="Debezium topic prefix.")]
Publication = Annotated[str, typer.Option("--publication", help="The publication whose tables are captured.")]
IdleTimeout = Annotated[float | None, typer.Option("--idle-timeout", help="Stop after this many seconds without an event.")]


@cdc_app.callback()
def cdc() -> None:
    """Watch change data capture (CDC) events."""


def qualified(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return schema or "public", name


def describe_event(topic: str, key: Any, value: dict[str, Any] | None) -> dict[str, Any]:
    """One change event as the line ``tail`` prints (pure)."""
    table = topic.split(".", 1)[1] if "." in topic else topic
    if value is None:
        return {"op": "tombstone", "table": table, "key": key}
    source = value.get("source") or {}
    line: dict[str, Any] = {"op": value.get("op"), "table": table, "key": key, "lsn": source.get("lsn"),
                            "ts_ms": source.get("ts_ms")}
    before, after = value.get("before"), value.get("after")
    if line["op"] in ("c", "r"):
        line["after"] = after
    elif line["op"] == "u":
        before = before or {}
        line["changed"] = {c: [before.get(c), v] for c, v in (after or {}).items() if before.get(c) != v}
    elif line["op"] == "d":
        line["before"] = before
    return line


class _Printer:
    """Prints events of one topic until ``limit`` is reached."""

    def __init__(self, topic: str, limit: int | None, echo: Callable[[str], None]) -> None:
        self.topic, self.limit, self._echo = topic, limit, echo
        self.printed = 0
        self.last_event = time.monotonic()
        self.done = threading.Event()

    def show(self, topic: str, key: Any, value: dict[str, Any] | None) -> None:
        if topic != self.topic or self.done.is_set():
            return
        self._echo(json.dumps(describe_event(topic, key, value), ensure_ascii=False, default=str))
        self.printed += 1
        self.last_event = time.monotonic()
        if self.limit is not None and self.printed >= self.limit:
            self.done.set()

    def batch(self, records: Sequence[ChangeRecord]) -> None:
        for record in records:
            self.show(record.topic, record.key, record.value)

    def idle_for(self, seconds: float | None) -> bool:
        return seconds is not None and time.monotonic() - self.last_event >= seconds


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=2)


def _database_url(given: str | None) -> str:
    if given:
        return given
    try:
        return provision(get_settings()).url
    except PostgresError as exc:
        raise _fail(f"PostgreSQL is not usable: {exc}") from exc


def _check_published(url: str, publication: str, schema: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND schemaname = %s AND tablename = %s",
            (publication, schema, name),
        ).fetchone()
    if row is None:
        raise _fail(f"table {schema}.{name} is not captured (not in publication {publication!r})")


def _tail_slot(url: str, printer: _Printer, from_beginning: bool, prefix: str, publication: str,
               schema: str, name: str, idle_timeout: float | None) -> None:
    slot = f"rustok_tail_{os.getpid()}_{secrets.token_hex(3)}"
    config = ConnectorConfig(
        dsn=url, slot_name=slot, publication=publication, topic_prefix=prefix, temporary_slot=True,
        take_snapshot=from_beginning, snapshot_tables=frozenset({f"{schema}.{name}"}),
    )
    connector = EmbeddedConnector(config, InMemoryConsumer(keep=False, on_batch=printer.batch))
    try:
        connector.start()
        printer.last_event = time.monotonic()
        while not printer.done.is_set() and not printer.idle_for(idle_timeout):
            connector.poll(0.2)
    except EmbeddedConnectorError as exc:
        raise _fail(f"cannot tail {schema}.{name}: {exc}") from exc
    finally:
        connector.close()  # the temporary slot goes with the connection


def _tail_kafka(bootstrap: str, printer: _Printer, from_beginning: bool, idle_timeout: float | None) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    except KafkaError as exc:
        raise _fail(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    try:
        partitions = [TopicPartition(printer.topic, p) for p in sorted(consumer.partitions_for_topic(printer.topic) or {0})]
        consumer.assign(partitions)
        (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*partitions)
        while not printer.done.is_set() and not printer.idle_for(idle_timeout):
            for messages in consumer.poll(timeout_ms=200).values():
                for message in messages:
                    key = None if message.key is None else json.loads(message.key)
                    value = None if message.value is None else json.loads(message.value)
                    printer.show(printer.topic, key, value)
    finally:
        consumer.close()


@cdc_app.command()
def tail(
    table: TableOption,
    from_beginning: FromBeginning = False,
    limit: Limit = None,
    kafka: UseKafka = False,
    database_url: DatabaseUrl = None,
    bootstrap_servers: Bootstrap = "127.0.0.1:9092",
    prefix: Prefix = "rustok",
    publication: Publication = "rustok_cdc",
    idle_timeout: IdleTimeout = None,
) -> None:
    """Print a table's change events as JSON lines, live, until Ctrl-C or --limit."""
    schema, name = qualified(table)
    printer = _Printer(f"{prefix}.{schema}.{name}", limit, typer.echo)
    try:
        if kafka:
            _tail_kafka(bootstrap_servers, printer, from_beginning, idle_timeout)
        else:
            url = _database_url(database_url)
            _check_published(url, publication, schema, name)
            _tail_slot(url, printer, from_beginning, prefix, publication, schema, name, idle_timeout)
    except KeyboardInterrupt:
        pass
