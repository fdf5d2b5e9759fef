"""The embedded connector's Kafka output: what Debezium on Kafka Connect would produce.

:class:`KafkaChangeConsumer` is a :class:`~.records.ChangeConsumer` that writes every
record to Kafka with kafka-python, so the embedded connector can stand in for Debezium
where Kafka Connect is not wanted:

* keys and values as ``JsonConverter`` with schemas disabled writes them (``jackson``),
  deletes followed by their tombstone (a null value), Debezium's key-change headers;
* the outbox table routed like Debezium's Outbox Event Router under our connector
  config (``connectors/debezium/postgres-connector.json``, see :class:`OutboxRoute`);
* heartbeats like Debezium's on ``__debezium-heartbeat.<prefix>`` every heartbeat interval;
* ``durable_lsn`` is the last commit LSN all of whose records (and every record before
  them) the broker acknowledged with ``acks=all``: ``deliver`` flushes the producer and
  checks every send before it moves.

After a restart, pass the slot's confirmed position (:func:`~.lag.confirmed_flush_lsn`)
as ``resume_from``: the connector only ever confirms what this consumer reported
durable, so that position is in Kafka, and streaming resumes after it (None means a
fresh start with a new snapshot).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import jackson
from .errors import EmbeddedConnectorError
from .records import ChangeRecord

with warnings.catch_warnings():
    # kafka-python still uses importlib.resources' deprecated read_text/open_text.
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

log = logging.getLogger(__name__)

ROUTED_BY_VALUE = "${routedByValue}"


class KafkaDeliveryError(EmbeddedConnectorError):
    """The broker did not acknowledge a record (nothing after it is reported durable)."""


@dataclass(frozen=True, slots=True)
class ProducedRecord:
    """One Kafka record as bytes: what goes on the wire."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class OutboxRoute:
    """Debezium's Outbox Event Router as our connector config sets it up.

    Parameters:
        table_topic: a regular expression for the outbox table's topic (the predicate).
        topic_replacement: the routed topic, ``${routedByValue}`` standing for ``route_by``.
        header_fields: (column, header name) pairs placed in headers, after ``id``.
    """

    table_topic: str = r"rustok\.public\.outbox"
    topic_replacement: str = "rustok.events.${routedByValue}"
    route_by: str = "aggregatetype"
    event_id: str = "id"
    event_key: str = "aggregateid"
    payload: str = "payload"
    expand_json_payload: bool = True
    header_fields: tuple[tuple[str, str], ...] = (("tenant_id", "tenant_id"), ("type", "type"))

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> OutboxRoute:
        """Read the ``transforms.outbox.*`` and ``predicates.isOutbox.*`` keys of a connector config."""
        prefix = "transforms.outbox."
        headers: list[tuple[str, str]] = []
        for item in config.get(prefix + "table.fields.additional.placement", "").split(","):
            if item.strip():
                column, placement, *alias = item.strip().split(":")
                if placement == "header":
                    headers.append((column, alias[0] if alias else column))
        return cls(
            table_topic=config.get("predicates.isOutbox.pattern", cls.table_topic),
            topic_replacement=config.get(prefix + "route.topic.replacement", cls.topic_replacement),
            route_by=config.get(prefix + "route.by.field", cls.route_by),
            event_id=config.get(prefix + "table.field.event.id", cls.event_id),
            event_key=config.get(prefix + "table.field.event.key", cls.event_key),
            payload=config.get(prefix + "table.field.event.payload", cls.payload),
            expand_json_payload=config.get(prefix + "table.expand.json.payload", "false") == "true",
            header_fields=tuple(headers),
        )

    def matches(self, topic: str) -> bool:
        return re.fullmatch(self.table_topic, topic) is not None

    def route(self, record: ChangeRecord) -> ProducedRecord | None:
        """What the EventRouter makes of a record of the outbox topic (None: dropped).

        Tombstones, deletes and updates are dropped (updates with a warning, as
        ``table.op.invalid.behavior=warn`` does); creates and snapshot reads become
        the event. A truncate has no row (Debezium's router fails on it); it is dropped.
        """
        value = record.value
        if value is None or value.get("op") not in ("c", "r"):
            if value is not None and value.get("op") == "u":
                log.warning("unexpected update of an outbox row ignored", extra={"key": record.key})
            return None
        row: dict[str, Any] = value["after"]
        payload = row.get(self.payload)
        body: bytes | None
        if payload is None:
            body = None
        elif self.expand_json_payload and isinstance(payload, str) and payload[:1] in ("{", "["):
            body = jackson.dumps(json.loads(payload))
        else:
            body = jackson.dumps(payload)
        headers = [("id", _header(row.get(self.event_id)))]
        headers += [(alias, _header(row.get(column))) for column, alias in self.header_fields]
        return ProducedRecord(
            topic=self.topic_replacement.replace(ROUTED_BY_VALUE, str(row.get(self.route_by))),
            key=jackson.dumps(row.get(self.event_key)),
            value=body,
            headers=tuple(headers),
            timestamp_ms=value.get("ts_ms"),
        )


def _header(value: Any) -> bytes:
    # Connect's SimpleHeaderConverter writes strings as their UTF-8 bytes, without quotes.
    return value.encode("utf-8") if isinstance(value, str) else jackson.dumps(value)


def context_headers(prefix: str, task_id: int = 0) -> tuple[tuple[str, bytes], ...]:
    """The ``__debezium.context.*`` headers Debezium 3 puts first on every change event
    (not on transaction metadata records, as the conformance test shows)."""
    return (
        ("__debezium.context.connectorLogicalName", prefix.encode()),
        ("__debezium.context.taskId", str(task_id).encode()),
        ("__debezium.context.connectorName", b"postgresql"),
    )


def to_produced(
    record: ChangeRecord, outbox: OutboxRoute | None, context: tuple[tuple[str, bytes], ...] = ()
) -> ProducedRecord | None:
    """A change record as Kafka Connect with our converters and transforms would write it.

    ``context`` (see :func:`context_headers`) comes before the record's own headers, and
    before the outbox router's, as on Debezium's records.
    """
    if outbox is not None and outbox.matches(record.topic):
        routed = outbox.route(record)
        if routed is None or not context:
            return routed
        return ProducedRecord(routed.topic, routed.key, routed.value, context + routed.headers, routed.timestamp_ms)
    return ProducedRecord(
        topic=record.topic,
        key=None if record.key is None else jackson.dumps(record.key),
        value=None if record.value is None else jackson.dumps(record.value),
        headers=context + tuple((name, _header(value)) for name, value in record.headers),
    )


def heartbeat_record(prefix: str, now_ms: int) -> ProducedRecord:
    """Debezium's heartbeat: topic ``__debezium-heartbeat.<prefix>``, key ``serverName``."""
    return ProducedRecord(
        topic=f"__debezium-heartbeat.{prefix}",
        key=jackson.dumps({"serverName": prefix}),
        value=jackson.dumps({"ts_ms": now_ms}),
    )


class KafkaChangeConsumer:
    """Writes delivered records to Kafka; durable means acknowledged by the broker.

    Parameters:
        bootstrap_servers: the Kafka brokers.
        topic_prefix: Debezium's ``topic.prefix`` (for heartbeats).
        outbox: the outbox routing; None leaves the outbox on its table topic.
        heartbeat_interval: seconds between heartbeats (Debezium's ``heartbeat.interval.ms``);
            0 disables them.
        resume_from: the durable position after a restart (see the module docstring).
        topic_for: renames topics on the way out (default: unchanged); lets a test or a
            shadow run write beside a live Debezium without mixing the two.
        producer_settings: extra kafka-python ``KafkaProducer`` settings.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic_prefix: str = "rustok",
        outbox: OutboxRoute | None = None,
        heartbeat_interval: float = 5.0,
        resume_from: int | None = None,
        topic_for: Callable[[str], str] | None = None,
        producer_settings: Mapping[str, Any] | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        settings = {
            "bootstrap_servers": bootstrap_servers,
            "acks": "all",
            "enable_idempotence": True,  # retries keep the per-partition order
            "linger_ms": 2,
            "batch_size": 512 * 1024,
            "max_request_size": 16 * 1024 * 1024,
            **(producer_settings or {}),
        }
        self._producer = KafkaProducer(**settings)
        self._prefix = topic_prefix
        self._outbox = outbox
        self._context = context_headers(topic_prefix)
        self._transaction_topic = f"{topic_prefix}.transaction"
        self._durable = resume_from
        self._clock = clock
        self._topic_for = topic_for or (lambda topic: topic)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeats: threading.Thread | None = None
        if heartbeat_interval > 0:
            self._heartbeats = threading.Thread(
                target=self._beat, args=(heartbeat_interval,), name="debezium-heartbeat", daemon=True
            )
            self._heartbeats.start()

    # -- the port --------------------------------------------------------------------

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        futures = []
        highest: int | None = None
        for record in batch:
            context = () if record.topic == self._transaction_topic else self._context
            produced = to_produced(record, self._outbox, context)
            if produced is not None:
                futures.append(self._send(produced))
            if record.commit_lsn is not None:
                highest = record.commit_lsn if highest is None else max(highest, record.commit_lsn)
        self._producer.flush()
        for future in futures:
            if future.failed():
                raise KafkaDeliveryError(f"Kafka did not acknowledge a record: {future.exception}")
        if highest is not None:
            with self._lock:
                if self._durable is None or highest > self._durable:
                    self._durable = highest

    def durable_lsn(self) -> int | None:
        with self._lock:
            return self._durable

    # -- lifecycle -------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._heartbeats is not None:
            self._heartbeats.join(timeout)
        self._producer.flush(timeout)
        self._producer.close(timeout)

    def __enter__(self) -> KafkaChangeConsumer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------

    def _send(self, record: ProducedRecord) -> Any:
        return self._producer.send(
            self._topic_for(record.topic), key=record.key, value=record.value, headers=list(record.headers) or None,
            timestamp_ms=record.timestamp_ms,
        )

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._send(heartbeat_record(self._prefix, self._clock() // 1_000_000))
            except KafkaError:  # a lost heartbeat is simply sent again at the next interval
                log.warning("heartbeat not sent", exc_info=True)
