"""The dead-letter port: where an event goes when it fails its contract or a projector.

A dead letter keeps the original payload byte for byte, where it came from and why it
failed, so a data engineer can inspect it and retry it once the cause is fixed
(``rustok dlq list|retry``). The stream goes on without it.

Implementations: ``PostgresDeadLetters`` (the embedded runtime's table
``dead_letters``) and ``InMemoryDeadLetters`` (tests). The Kafka runtime writes to the
``<prefix>.dlq`` topic (pipelines.faust_app).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

import psycopg
from psycopg.rows import class_row

log = logging.getLogger(__name__)

Status = Literal["open", "queued", "retried", "dropped"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Parameters:
    pipeline: which pipeline rejected it.
    stage: ``decode`` (not a change event), ``contract`` (a row failed its contract) or
        ``project`` (a projector raised).
    topic: the source topic (``rustok.public.commerce_products``).
    event_key: the record key as JSON text, if any.
    payload: the original record value as JSON text.
    reason: what was wrong, for a human.
    error_type: the exception class name.
    source_lsn: where it was in the WAL, when known.
    """

    pipeline: str
    stage: str
    topic: str
    event_key: str | None
    payload: str
    reason: str
    error_type: str
    source_lsn: int | None = None
    id: int | None = None
    status: Status = "open"
    attempts: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class DeadLetters(Protocol):
    def add(self, letters: Sequence[DeadLetter]) -> None:
        """Keep the letters durably (before the source position that carried them is acknowledged)."""

    def list(self, pipeline: str, status: Status | None = "open", limit: int = 100) -> list[DeadLetter]: ...

    def mark(self, ids: Sequence[int], status: Status) -> None: ...


class InMemoryDeadLetters:
    def __init__(self) -> None:
        self._letters: dict[int, DeadLetter] = {}

    def add(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            new_id = len(self._letters) + 1
            self._letters[new_id] = replace(letter, id=new_id)

    def list(self, pipeline: str, status: Status | None = "open", limit: int = 100) -> list[DeadLetter]:
        found = [d for d in self._letters.values() if d.pipeline == pipeline and status in (None, d.status)]
        return found[:limit]

    def mark(self, ids: Sequence[int], status: Status) -> None:
        for letter_id in ids:
            old = self._letters[letter_id]
            attempted = status in ("retried", "open") and old.status == "queued"
            self._letters[letter_id] = replace(old, status=status, attempts=old.attempts + attempted)


_COLUMNS = "id, pipeline, stage, topic, event_key, payload, reason, error_type, source_lsn, status, attempts, created_at"


class PostgresDeadLetters:
    """The ``dead_letters`` table (migration 0008)."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def add(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with psycopg.connect(self._url) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO dead_letters (pipeline, stage, topic, event_key, payload, reason, error_type, source_lsn)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(d.pipeline, d.stage, d.topic, d.event_key, d.payload, d.reason[:4000], d.error_type, d.source_lsn)
                 for d in letters],
            )
        for letter in letters:
            log.warning("dead letter", extra={"pipeline": letter.pipeline, "topic": letter.topic,
                                               "lsn": letter.source_lsn, "stage": letter.stage, "reason": letter.reason})

    def list(self, pipeline: str, status: Status | None = "open", limit: int = 100) -> list[DeadLetter]:
        query = f"SELECT {_COLUMNS} FROM dead_letters WHERE pipeline = %s AND (%s::text IS NULL OR status = %s) ORDER BY id LIMIT %s"
        with psycopg.connect(self._url) as conn, conn.cursor(row_factory=class_row(DeadLetter)) as cur:
            return cur.execute(query, (pipeline, status, status, limit)).fetchall()

    def mark(self, ids: Sequence[int], status: Status) -> None:
        """Set the status; leaving ``queued`` (a retry ran) counts one attempt."""
        if not ids:
            return
        with psycopg.connect(self._url) as conn:
            conn.execute(
                "UPDATE dead_letters SET status = %(status)s,"
                " attempts = attempts + CASE WHEN status = 'queued' AND %(status)s IN ('retried', 'open') THEN 1 ELSE 0 END,"
                " retried_at = CASE WHEN status = 'queued' AND %(status)s IN ('retried', 'open') THEN now() ELSE retried_at END"
                " WHERE id = ANY(%(ids)s)",
                {"status": status, "ids": list(ids)},
            )
