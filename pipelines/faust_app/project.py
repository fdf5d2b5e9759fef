"""Stage 1, "project": Debezium records → projection core → emissions and dead letters.

No Kafka here: the agent in ``pipelines.faust_app.worker`` hands over raw records and
publishes what comes back, so this runs the same in unit tests with a dict-backed
:class:`~pipelines.faust_app.state.FaustStateStore`. The core and the decoding are the
embedded runner's (``pipelines.runtime``); only the bytes-to-JSON step is new, because
Kafka gives bytes where the embedded connector gives dicts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from connectors.embedded.records import ChangeRecord
from pipelines.model import RootDocuments
from pipelines.runtime.dead_letters import DeadLetter
from pipelines.runtime.decode import decode_records, dead_letter
from pipelines.runtime.projection import CoreProjection
from pipelines.state.port import StateStore

from .messages import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record of a table topic, as Kafka delivered it."""

    origin: Origin
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class Projected:
    """Parameters:
    emissions: one per touched root, for the documents topics.
    dead: letters for the DLQ, each with the origin of its record.
    events: change events the core received.
    """

    emissions: list[RootDocuments] = field(default_factory=list)
    dead: list[tuple[DeadLetter, Origin]] = field(default_factory=list)
    events: int = 0


class UnreadableRecord(ValueError):
    """A table-topic record whose key or value is not JSON."""


class ProjectStage:
    """Parameters:
    store: the state store (Faust tables in the worker).
    pipeline: name written into dead letters.
    topic_prefix: Debezium's topic prefix.
    """

    def __init__(self, store: StateStore, pipeline: str, topic_prefix: str) -> None:
        self._projection = CoreProjection(lambda: store, lambda: None)
        self._pipeline = pipeline
        self._prefix = topic_prefix

    def process(self, batch: Sequence[SourceRecord]) -> Projected:
        """Apply ``batch`` to state and build every touched root once; state is not committed."""
        out = Projected()
        records: list[ChangeRecord] = []
        origins: dict[int, Origin] = {}
        for item in batch:
            try:
                record = _to_change_record(item)
            except UnreadableRecord as exc:
                out.dead.append((_unreadable_letter(self._pipeline, item, exc), item.origin))
                continue
            origins[id(record)] = item.origin
            records.append(record)
        decoded = decode_records(records, self._pipeline, self._prefix)
        out.dead += [(letter, _origin_of(letter, records, origins)) for letter in decoded.dead]
        out.emissions, rejected = self._projection.project(decoded.events)
        for bad in rejected:
            source = decoded.sources[bad.index]
            out.dead.append((dead_letter(self._pipeline, bad.stage, source, bad.error), origins[id(source)]))
        out.events = len(decoded.events)
        return out

    def commit(self) -> None:
        """Write the state absorbed so far to the store (its changelogs, in the worker)."""
        self._projection.commit(None)


def _to_change_record(item: SourceRecord) -> ChangeRecord:
    try:
        key = orjson.loads(item.key) if item.key else None
        value = orjson.loads(item.value) if item.value is not None else None
    except orjson.JSONDecodeError as exc:
        raise UnreadableRecord(f"record is not JSON: {exc}") from exc
    if value is not None and not isinstance(value, dict):
        raise UnreadableRecord(f"record value is JSON {type(value).__name__}, not an object")
    if key is not None and not isinstance(key, dict):
        key = None
    source = (value or {}).get("source")
    lsn = source.get("lsn") if isinstance(source, dict) else None
    return ChangeRecord(item.origin.topic, key, value, lsn if isinstance(lsn, int) else 0, None)


def _unreadable_letter(pipeline: str, item: SourceRecord, error: Exception) -> DeadLetter:
    return DeadLetter(
        pipeline=pipeline,
        stage="decode",
        topic=item.origin.topic,
        event_key=None if item.key is None else item.key.decode("utf-8", errors="replace"),
        payload="" if item.value is None else item.value.decode("utf-8", errors="replace"),
        reason=str(error),
        error_type=type(error).__name__,
        source_lsn=None,
    )


def _origin_of(letter: DeadLetter, records: list[ChangeRecord], origins: dict[int, Origin]) -> Origin:
    # decode_records builds letters from records without saying which; match by payload.
    for record in records:
        if record.topic == letter.topic and orjson.dumps(record.value).decode() == letter.payload:
            return origins[id(record)]
    return Origin(letter.topic, -1, -1)
