"""The archive's row shape: one flattened change event per row, and back again.

A row keeps the envelope's facts as plain columns (``op``, ``lsn``, ``commit_ts``,
``tx_id``, ``tenant_id``, ``table``, ``key``, ``before``, ``after``, ``snapshot``) for
anyone reading the Parquet files with pandas or DuckDB, and the rest of the envelope
(the ``source`` and ``transaction`` blocks, the event's own timestamps) as JSON text,
so :func:`event_of` gives back exactly the event the connector emitted. Pure code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from contracts.envelope import ChangeEvent, parse_change_event

SCHEMA = pa.schema([
    pa.field("op", pa.string(), nullable=False),
    pa.field("lsn", pa.int64()),
    pa.field("commit_ts", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("tx_id", pa.int64()),
    pa.field("tenant_id", pa.string()),
    pa.field("table", pa.string(), nullable=False),
    pa.field("schema", pa.string(), nullable=False),
    pa.field("key", pa.string()),
    pa.field("before", pa.string()),
    pa.field("after", pa.string()),
    pa.field("snapshot", pa.string()),
    pa.field("total_order", pa.int64()),
    pa.field("seq", pa.int64(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("transaction", pa.string()),
    pa.field("ts_ms", pa.int64()),
    pa.field("ts_us", pa.int64()),
    pa.field("ts_ns", pa.int64()),
    pa.field("topic", pa.string()),
    pa.field("partition", pa.int32()),
    pa.field("offset", pa.int64()),
])

# The tenant a row of these tables belongs to is the row's own id.
_TENANT_IS_ID = frozenset({"tenants"})


@dataclass(frozen=True, slots=True)
class KafkaPosition:
    """Where a record was read from, when the source is Kafka."""

    topic: str
    partition: int
    offset: int


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def tenant_of(event: ChangeEvent) -> str | None:
    """The tenant whose data the row is, or None for tables without one."""
    row = event.row
    if event.table in _TENANT_IS_ID:
        value = row.get("id")
    else:
        value = row.get("tenant_id")
    return None if value is None else str(value)


def commit_time(event: ChangeEvent) -> datetime:
    """The commit time of a streamed change, the snapshot time of a snapshot read."""
    source = event.source
    micros = source.ts_us if source.ts_us is not None else source.ts_ms * 1000
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


def flatten(event: ChangeEvent, key: dict[str, Any] | None, seq: int,
            kafka: KafkaPosition | None = None) -> dict[str, Any]:
    """One archive row for ``event``; ``seq`` keeps the source's order among equal LSNs."""
    source = event.source
    dumped = event.model_dump(mode="json", by_alias=True)
    transaction = event.transaction
    return {
        "op": event.op,
        "lsn": source.lsn,
        "commit_ts": commit_time(event),
        "tx_id": source.txId,
        "tenant_id": tenant_of(event),
        "table": source.table,
        "schema": source.schema_name,
        "key": _json(key),
        "before": _json(event.before),
        "after": _json(event.after),
        "snapshot": source.snapshot if source.is_snapshot else None,
        "total_order": None if transaction is None else transaction.total_order,
        "seq": seq,
        "source": _json(dumped["source"]),
        "transaction": _json(dumped["transaction"]),
        "ts_ms": event.ts_ms,
        "ts_us": event.ts_us,
        "ts_ns": event.ts_ns,
        "topic": None if kafka is None else kafka.topic,
        "partition": None if kafka is None else kafka.partition,
        "offset": None if kafka is None else kafka.offset,
    }


def envelope_of(row: dict[str, Any]) -> dict[str, Any]:
    """The change-event value (Debezium's JSON) an archive row was made from."""
    return {
        "before": _loads(row["before"]),
        "after": _loads(row["after"]),
        "source": _loads(row["source"]),
        "transaction": _loads(row["transaction"]),
        "op": row["op"],
        "ts_ms": row["ts_ms"],
        "ts_us": row["ts_us"],
        "ts_ns": row["ts_ns"],
    }


def event_of(row: dict[str, Any]) -> ChangeEvent:
    """The change event an archive row holds (raises InvalidChangeEvent if it is not one)."""
    return parse_change_event(envelope_of(row))


def identity(row: dict[str, Any]) -> tuple[str, str | None, int | None, str, int | None]:
    """What makes two archive rows the same change (re-archived after an interruption)."""
    return (row["table"], row["key"], row["lsn"], row["op"], row["total_order"])
