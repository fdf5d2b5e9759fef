"""Fixtures for the connector tests: a database with captured tables, slots cleaned up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg
import pytest

from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, InMemoryConsumer

SCHEMA = """
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int);
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE scratch (id bigserial PRIMARY KEY, payload text);
ALTER TABLE items REPLICA IDENTITY FULL;
ALTER TABLE notes REPLICA IDENTITY FULL;
CREATE PUBLICATION rustok_cdc FOR TABLE items, notes;
"""  # scratch is not published: writes to it move the WAL without any change event


def drop_slots(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(50):
            try:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE database = current_database()"
                )
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(0.1)  # a walsender that has not noticed its client left yet


@pytest.fixture
def cdc_url(empty_database_url: str) -> Iterator[str]:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
    yield empty_database_url
    drop_slots(empty_database_url)


@dataclass
class Report:
    lsn: int
    delivered_commits: frozenset[int]
    at: float


class ProgressConsumer(InMemoryConsumer):
    """An in-memory consumer that also records every ``caught_up`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[Report] = []
        self._commits: set[int] = set()
        self._progress = threading.Condition()

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        super().deliver(batch)
        with self._progress:
            self._commits.update(r.commit_lsn for r in batch if r.commit_lsn is not None)

    def caught_up(self, lsn: int) -> None:
        with self._progress:
            self.reports.append(Report(lsn, frozenset(self._commits), time.monotonic()))
            self._progress.notify_all()

    def wait_caught_up(self, lsn: int, timeout: float) -> float | None:
        """Seconds until a report reached ``lsn``, or None if none did within ``timeout``."""
        began = time.monotonic()
        with self._progress:
            if self._progress.wait_for(lambda: bool(self.reports) and self.reports[-1].lsn >= lsn, timeout):
                return time.monotonic() - began
        return None


@pytest.fixture
def running() -> Iterator[list[tuple[EmbeddedConnector, threading.Event, threading.Thread]]]:
    """Connectors started in background threads by :func:`start_in_thread`, stopped at the end."""
    started: list[tuple[EmbeddedConnector, threading.Event, threading.Thread]] = []
    yield started
    for connector, stop, thread in started:
        stop.set()
        thread.join(10)
        connector.close()


def start_in_thread(
    started: list[tuple[EmbeddedConnector, threading.Event, threading.Thread]],
    url: str,
    consumer: InMemoryConsumer,
    **settings: object,
) -> EmbeddedConnector:
    connector = EmbeddedConnector(ConnectorConfig(dsn=url, **settings), consumer)  # type: ignore[arg-type]
    connector.start()
    stop = threading.Event()
    thread = threading.Thread(target=connector.run, args=(stop, 0.2), daemon=True)
    thread.start()
    started.append((connector, stop, thread))
    return connector
