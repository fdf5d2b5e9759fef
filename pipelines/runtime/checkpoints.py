"""Pipeline checkpoints in PostgreSQL: how far every sink has applied the source.

``applied_commit_lsn`` is the position below which every commit is visible in every
sink; the search API compares consistency tokens with it (read-your-writes). It is
written after the sinks flushed and never moves backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class Checkpoint:
    pipeline: str
    applied_commit_lsn: int
    applied_commit_at: datetime | None
    events_applied: int


class PostgresCheckpoints:
    def __init__(self, database_url: str, pipeline: str) -> None:
        self._url = database_url
        self.pipeline = pipeline
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def load(self) -> Checkpoint | None:
        row = self._connection().execute(
            "SELECT applied_commit_lsn, applied_commit_at, events_applied FROM pipeline_checkpoints WHERE pipeline = %s",
            (self.pipeline,),
        ).fetchone()
        if row is None:
            return None
        lsn, at, events = row
        assert isinstance(lsn, int) and isinstance(events, int) and (at is None or isinstance(at, datetime))
        return Checkpoint(self.pipeline, lsn, at, events)

    def save(self, applied_commit_lsn: int, applied_commit_at: datetime | None, events: int) -> None:
        """Advance the checkpoint (a lower position than the stored one is ignored)."""
        self._connection().execute(
            """
            INSERT INTO pipeline_checkpoints AS c (pipeline, applied_commit_lsn, applied_commit_at, events_applied)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (pipeline) DO UPDATE SET
                applied_commit_lsn = greatest(c.applied_commit_lsn, excluded.applied_commit_lsn),
                applied_commit_at = coalesce(excluded.applied_commit_at, c.applied_commit_at),
                events_applied = c.events_applied + excluded.events_applied,
                updated_at = now()
            """,
            (self.pipeline, applied_commit_lsn, applied_commit_at, events),
        )

    def reset(self) -> None:
        self._connection().execute("DELETE FROM pipeline_checkpoints WHERE pipeline = %s", (self.pipeline,))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._url, autocommit=True)
        return self._conn
