"""``rustok lag``: how far behind the source each stage is, and how many dead letters wait.

Stages:

* ``capture``: every replication slot of this database (the live pipeline's, a
  running replay's): the server's WAL position against the slot's confirmed flush
  position, in bytes, and seconds since the consumer last confirmed.
* ``projection``: every ``pipeline_checkpoints`` row (projection and sinks commit
  together, so the checkpoint is what every sink shows): the WAL position against the
  applied commit LSN, in bytes, and in seconds as the age of the last applied commit
  when a change is still to be applied (or, with no slot to count changes in, when more
  than idle WAL lies between).
* ``kafka`` (only with a bootstrap server): per consumer group and topic, the end
  offsets against the group's committed offsets, in events.

Events behind, for the slots: peeking a slot that is being streamed is refused, so
the slot is copied (``pg_copy_logical_replication_slot``, a temporary slot at the same
confirmed position) and the copy is peeked, counting the row changes still to come
(``connectors.embedded.pending_changes``).
Decoding costs time in proportion to the lag; a caught-up pipeline costs nothing.
A checkpoint's events behind are the changes above its applied position in the slot
that has confirmed least.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import psycopg

from connectors.embedded import pending_changes


@dataclass(frozen=True)
class StageLag:
    stage: str
    name: str
    source_lsn: int
    processed_lsn: int | None
    bytes_behind: int | None
    seconds_behind: float | None
    events_behind: int | None = None
    dead_letters: int | None = None


@dataclass(frozen=True)
class LagReport:
    stages: list[StageLag] = field(default_factory=list)
    dead_letters_open: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


_SLOTS = """
SELECT s.slot_name, pg_current_wal_lsn() - '0/0'::pg_lsn,
       s.confirmed_flush_lsn - '0/0'::pg_lsn, pg_current_wal_lsn() - s.confirmed_flush_lsn,
       extract(epoch FROM now() - r.reply_time)
  FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
 WHERE s.database = current_database() AND s.slot_type = 'logical'
 ORDER BY s.slot_name
"""

_CHECKPOINTS = """
SELECT c.pipeline, pg_current_wal_lsn() - '0/0'::pg_lsn, c.applied_commit_lsn,
       greatest(pg_current_wal_lsn() - '0/0'::pg_lsn - c.applied_commit_lsn, 0),
       extract(epoch FROM now() - c.applied_commit_at),
       (SELECT count(*) FROM dead_letters d WHERE d.pipeline = c.pipeline AND d.status = 'open')
  FROM pipeline_checkpoints c ORDER BY c.pipeline
"""

# Bytes of WAL the server writes on its own (checkpoint records, the pipelines' own
# checkpoint rows) that no pipeline delivers as a commit: below this a stage is current.
IDLE_WAL_BYTES = 4096


def _num(value: object) -> int | None:
    return None if value is None else int(str(value))


def read_lag(database_url: str, kafka_bootstrap: str | None = None) -> LagReport:
    """Read every stage's lag now (one short connection)."""
    stages: list[StageLag] = []
    with psycopg.connect(database_url) as conn:
        pending: dict[int, list[int]] = {}  # slot's confirmed LSN → its pending change LSNs
        for name, source, confirmed, behind, since in conn.execute(_SLOTS).fetchall():
            changes = pending_changes(conn, str(name))
            if changes is not None and confirmed is not None:
                pending[_num(confirmed) or 0] = changes
            stages.append(StageLag("capture", str(name), _num(source) or 0, _num(confirmed), _num(behind),
                                   None if since is None else round(float(str(since)), 3),
                                   None if changes is None else len(changes)))
        for name, source, applied, behind, age, dead in conn.execute(_CHECKPOINTS).fetchall():
            bytes_behind = _num(behind)
            events = _events_above(pending, _num(applied) or 0)
            # No change left to apply is current, whatever else the server wrote meanwhile (autovacuum's
            # analyze of a table just written writes tens of kB); without a slot to count in, the bytes.
            current = events == 0 or (events is None and bytes_behind is not None and bytes_behind <= IDLE_WAL_BYTES)
            seconds = 0.0 if current or age is None else round(max(float(str(age)), 0.0), 3)
            stages.append(StageLag("projection", str(name), _num(source) or 0, _num(applied), bytes_behind,
                                   seconds, events, _num(dead)))
        row = conn.execute("SELECT count(*) FROM dead_letters WHERE status = 'open'").fetchone()
    if kafka_bootstrap is not None:
        stages.extend(kafka_lag(kafka_bootstrap))
    return LagReport(stages, _num(row[0]) or 0 if row else 0)


def _events_above(pending: dict[int, list[int]], applied: int) -> int | None:
    """Changes above ``applied`` in the slot that has confirmed least. A pipeline's slot
    is confirmed only up to what it made durable, or past it when no change lies between
    (idle progress), so that slot holds every change the pipeline still has to apply."""
    if not pending:
        return None
    return sum(1 for lsn in pending[min(pending)] if lsn > applied)


def kafka_lag(bootstrap: str) -> list[StageLag]:
    """Consumer-group lag in events per topic (end offsets minus committed offsets)."""
    from kafka import KafkaAdminClient, KafkaConsumer

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="rustok-lag")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        out: list[StageLag] = []
        for group, *_ in admin.list_consumer_groups():
            committed = admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = consumer.end_offsets(list(committed))
            per_topic: dict[str, int] = {}
            for partition, meta in committed.items():
                behind = max(ends.get(partition, 0) - max(meta.offset, 0), 0)
                per_topic[partition.topic] = per_topic.get(partition.topic, 0) + behind
            out += [StageLag("kafka", f"{group}:{topic}", 0, None, None, None, events)
                    for topic, events in sorted(per_topic.items())]
        return out
    finally:
        consumer.close()
        admin.close()
