"""From connector records to change events: what the projection core reads.

Transaction markers, heartbeats, tombstones and outbox rows carry nothing the read
model is built from and are skipped. A value that is not a Debezium change event
becomes a dead letter at stage ``decode``.

Snapshot reads take a shorter road to the same event: the embedded connector gives
the reads of a table with one marker one shared ``source`` block, so the block is
validated once (by the pydantic model, as always) and the envelope around it is
checked by hand. Only values whose every part has exactly the type the model would
keep as is take that road (exact ``int``/``str``/``None``/``dict`` with ``str`` keys);
anything else is parsed by :func:`parse_change_event`, so both give equal events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent, InvalidChangeEvent, SourceInfo, parse_change_event

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
    sources: dict[int, tuple[dict[str, Any], SourceInfo]] = {}
    for record in records:
        if record.value is None or not record.topic.startswith(prefix) or record.topic == outbox:
            out.skipped += 1
            continue
        try:
            event = snapshot_read(record.value, sources)
            if event is None:
                event = parse_change_event(record.value)
        except InvalidChangeEvent as exc:
            out.dead.append(dead_letter(pipeline, "decode", record, exc))
            continue
        out.events.append(event)
        out.sources.append(record)
    return out


_ENVELOPE_KEYS = frozenset(("before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"))
_SNAPSHOT_MARKERS = frozenset(("true", "first", "last", "first_in_data_collection", "last_in_data_collection"))
_FIELDS_SET = frozenset(_ENVELOPE_KEYS)
_MAX_SOURCES = 256


def snapshot_read(value: dict[str, Any], sources: dict[int, tuple[dict[str, Any], SourceInfo]]) -> ChangeEvent | None:
    """The event of an initial-snapshot read (op ``r``) without validating its envelope
    field by field; None when ``value`` is anything else or not in the plainest shape.

    ``sources`` caches validated source blocks (one per table and marker while the batch lives).
    """
    if value.get("op") != "r" or value.keys() != _ENVELOPE_KEYS:
        return None
    after, source = value["after"], value["source"]
    if (value["before"] is not None or value["transaction"] is not None or type(after) is not dict
            or type(source) is not dict or source.get("snapshot") not in _SNAPSHOT_MARKERS):
        return None
    times = value["ts_ms"], value["ts_us"], value["ts_ns"]
    if any(t is not None and type(t) is not int for t in times):
        return None
    for name in after:
        if type(name) is not str:
            return None
    info = _source_info(source, sources)
    if info is None:
        return None
    return _construct(ChangeEvent, {"before": None, "after": dict(after), "source": info, "transaction": None,
                                    "op": "r", "ts_ms": times[0], "ts_us": times[1], "ts_ns": times[2]})


def _source_info(source: dict[str, Any], sources: dict[int, tuple[dict[str, Any], SourceInfo]]) -> SourceInfo | None:
    # By identity: the snapshot reader shares one source block among the reads of a table
    # with the same marker. The cache holds the block itself, so its id is not reused.
    cached = sources.get(id(source))
    if cached is not None and cached[0] is source:
        return cached[1]
    try:
        info = SourceInfo.model_validate(source)
    except ValidationError:
        return None  # the full parse reports it
    if len(sources) >= _MAX_SOURCES:
        sources.clear()
    sources[id(source)] = (source, info)
    return info


def _construct(model: type[ChangeEvent], fields: dict[str, Any]) -> ChangeEvent:
    """A validated-equivalent instance from already checked field values (what
    ``model_construct`` does, without its per-field defaults and alias handling)."""
    event = model.__new__(model)
    object.__setattr__(event, "__dict__", fields)
    object.__setattr__(event, "__pydantic_fields_set__", set(_FIELDS_SET))
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


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
