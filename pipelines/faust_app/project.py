"""Stage 1, "project": Debezium records → projection core → emissions and dead letters.

No Kafka here: the agent in ``pipelines.faust_app.worker`` hands over raw records and
publishes what comes back, so this runs the same in unit tests with a dict-backed
:class:`~pipelines.faust_app.state.FaustStateStore`. The core and the decoding are the
embedded runner's (``pipelines.runtime``); only the bytes-to-JSON step is new, because
Kafka gives bytes where the embedded connector gives dicts.

A snapshot is driven like the embedded runner drives it: Debezium sends it table by
table, so every table touches every root again. With ``hold=True`` a batch of
initial-snapshot reads is only absorbed (``CoreProjection.absorb``); its roots wait, and
:meth:`ProjectStage.release` builds them, a slice at a time, when the worker decides the
snapshot is over. Each root is then built once instead of once per table it has rows in.
A batch holding anything else (a streamed change) is absorbed behind the waiting roots
when there are any, so nothing overtakes them; the worker then releases everything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent
from pipelines.model import RootDocuments
from pipelines.runtime.dead_letters import DeadLetter
from pipelines.runtime.decode import Decoded, decode_records, dead_letter, record_of
from pipelines.runtime.projection import CoreProjection, Rejected
from pipelines.state.port import StateStore

from .messages import Origin

log = logging.getLogger(__name__)

# Debezium's ``source.snapshot`` values of an initial snapshot's reads ("incremental" reads
# interleave with streamed changes and are built like them).
INITIAL_SNAPSHOT = frozenset({"true", "first", "last", "first_in_data_collection", "last_in_data_collection"})


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
    held: the events were absorbed and their roots wait for :meth:`ProjectStage.release`.
    streamed: the batch had events other than initial-snapshot reads (the snapshot is over).
    """

    emissions: list[RootDocuments] = field(default_factory=list)
    dead: list[tuple[DeadLetter, Origin]] = field(default_factory=list)
    events: int = 0
    held: bool = False
    streamed: bool = False


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
        self._last: tuple[Decoded, dict[int, Origin]] = (Decoded(), {})
        self.snapshot_ended = False  # Debezium's last snapshot read was absorbed

    @property
    def pending_roots(self) -> int:
        """Roots absorbed and not yet built."""
        return self._projection.pending_roots

    def process(self, batch: Sequence[SourceRecord], hold: bool = False) -> Projected:
        """Apply ``batch`` to state; state is not committed.

        Builds every touched root once, unless the batch is absorbed (``held``): with
        ``hold`` and only initial-snapshot reads in it, or behind roots still waiting.
        """
        out = Projected()
        decoded, origins = self._decode(batch, out)
        events = decoded.events
        out.events = len(events)
        out.streamed = not all(_initial_read(e) for e in events)
        if self.pending_roots or (hold and events and not out.streamed):
            self._last = (decoded, origins)
            self._reject(self._projection.absorb(events), out)
            self.snapshot_ended |= any(e.source.snapshot == "last" for e in events)
            out.held = True
            return out
        out.emissions, rejected = self._projection.project(events)
        self._last = (decoded, origins)
        self._reject(rejected, out)
        return out

    def release(self, max_roots: int) -> Projected:
        """Build up to ``max_roots`` of the roots waiting (the oldest first)."""
        out = Projected()
        out.emissions, rejected = self._projection.emit(max_roots)
        self._reject(rejected, out)
        return out

    def commit(self) -> None:
        """Write the state absorbed so far to the store (its changelogs, in the worker)."""
        self._projection.commit(None)

    def _decode(self, batch: Sequence[SourceRecord], out: Projected) -> tuple[Decoded, dict[int, Origin]]:
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
        return decoded, origins

    def _reject(self, rejected: Sequence[Rejected], out: Projected) -> None:
        decoded, origins = self._last
        for bad in rejected:
            if bad.index >= 0:
                source = decoded.sources[bad.index]
                origin = origins[id(source)]
            else:  # an event of an earlier, absorbed batch: its record is gone
                assert bad.event is not None
                source = record_of(bad.event, self._prefix)
                origin = Origin(source.topic, -1, -1)
            out.dead.append((dead_letter(self._pipeline, bad.stage, source, bad.error), origin))


def _initial_read(event: ChangeEvent) -> bool:
    return event.source.snapshot in INITIAL_SNAPSHOT


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
