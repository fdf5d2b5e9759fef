"""From connector records to change events: what the projection core reads.

Transaction markers, heartbeats, tombstones and outbox rows carry nothing the read
model is built from and are skipped. A value that is not a Debezium change event
becomes a dead letter at stage ``decode``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent, InvalidChangeEvent, parse_change_event

from .dead_letters import DeadLetter


@dataclass(slots=True)
class Decoded:
    events: list[ChangeEvent] = field(default_factory=list)
    sources: list[ChangeRecord] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0


def table_topic_prefix(topic_prefix: str) -> str:
    return f"{topic_prefix}.public."


def decode_records(records: Iterable[ChangeRecord], pipeline: str, topic_prefix: str) -> Decoded:
    """Parse the change events among ``records``; keep the order."""
    prefix = table_topic_prefix(topic_prefix)
    outbox = f"{prefix}outbox"
    out = Decoded()
    for record in records:
        if record.value is None or not record.topic.startswith(prefix) or record.topic == outbox:
            out.skipped += 1
            continue
        try:
            event = parse_change_event(record.value)
        except InvalidChangeEvent as exc:
            out.dead.append(dead_letter(pipeline, "decode", record, exc))
            continue
        out.events.append(event)
        out.sources.append(record)
    return out


def dead_letter(pipeline: str, stage: str, record: ChangeRecord, error: Exception) -> DeadLetter:
    return DeadLetter(
        pipeline=pipeline,
        stage=stage,
        topic=record.topic,
        event_key=None if record.key is None else orjson.dumps(record.key).decode(),
        payload=orjson.dumps(record.value).decode(),
        reason=str(error) or type(error).__name__,
        error_type=type(error).__name__,
        source_lsn=record.lsn,
    )


def record_of(event: ChangeEvent, topic_prefix: str) -> ChangeRecord:
    """A record carrying ``event`` again, for a dead letter whose source record is gone
    (an event of an earlier batch that was absorbed and built later)."""
    value = event.model_dump(mode="json", by_alias=True)
    topic = f"{topic_prefix}.{event.source.schema_name}.{event.table}"
    return ChangeRecord(topic, None, value, event.source.lsn or 0, None)
