"""What happens when a slot falls more than ``max_slot_wal_keep_size`` behind.

A separate small PostgreSQL with ``max_slot_wal_keep_size = 1MB``: WAL is written and
switched past the slot's segment, and a CHECKPOINT invalidates the slot. Before that,
lag reporting says the slot is at risk; after it, the connector refuses to go on with
:class:`SlotInvalidated`, whether it was stopped or streaming at the time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from connectors.embedded import ConnectorConfig, EmbeddedConnector, InMemoryConsumer, SlotInvalidated
from connectors.embedded.lag import read_slot_lag
from rustok.postgres import EmbeddedPostgres, ensure_database

from .conftest import SCHEMA


@pytest.fixture(scope="module")
def small_server_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="rustok-slot-keep-"))
    server = EmbeddedPostgres(root / "pg", preferred_port=55991, settings={
        "max_slot_wal_keep_size": "'1MB'", "max_wal_size": "'32MB'", "min_wal_size": "'32MB'",
        "shared_buffers": "'32MB'", "checkpoint_timeout": "'1h'",
    })
    info = server.start()
    try:
        ensure_database(info.url("postgres"), "shop")
        url = info.url("shop")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield url
    finally:
        server.destroy()


def push_wal_past_the_slot(url: str, checkpoint: bool = True) -> None:
    """Write ~2MB of WAL over a couple of segment switches; CHECKPOINT removes the old segments."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(2):
            conn.execute("INSERT INTO scratch (payload) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000) g")
            conn.execute("SELECT pg_switch_wal()")
        if checkpoint:
            conn.execute("CHECKPOINT")


def slot_status(url: str, slot: str) -> tuple[str, int | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        lag = read_slot_lag(conn, slot)
    assert lag.wal_status is not None
    return lag.wal_status, lag.safe_wal_size


def test_a_stopped_connector_whose_slot_was_invalidated_refuses_to_resume(small_server_url: str) -> None:
    url, slot = small_server_url, "stopped_slot"
    consumer = InMemoryConsumer()
    with EmbeddedConnector(ConnectorConfig(dsn=url, slot_name=slot), consumer) as connector:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO items VALUES (1, 'before', 1)")
        while consumer.count < 3:
            connector.poll(0.5)
        assert not connector.lag().at_risk
    # The connector is stopped; the application keeps writing.
    push_wal_past_the_slot(url, checkpoint=False)
    with psycopg.connect(url, autocommit=True) as conn:
        warned = read_slot_lag(conn, slot)
    assert warned.wal_status == "unreserved" and warned.at_risk
    assert warned.safe_wal_size is not None and warned.safe_wal_size < 0

    push_wal_past_the_slot(url)

    assert slot_status(url, slot)[0] == "lost"
    restarted = EmbeddedConnector(ConnectorConfig(dsn=url, slot_name=slot), consumer)
    with pytest.raises(SlotInvalidated, match="new snapshot is required"):
        restarted.start()
    restarted.close()
    # A consumer that starts over (no durable position) gets a fresh slot and snapshot.
    fresh = InMemoryConsumer()
    with EmbeddedConnector(ConnectorConfig(dsn=url, slot_name=slot), fresh) as connector:
        assert connector.snapshot_result is not None and connector.snapshot_result.rows == 1
        assert slot_status(url, slot)[0] == "reserved"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


def test_a_streaming_connector_fails_with_slot_invalidated_when_the_server_drops_its_wal(small_server_url: str) -> None:
    url, slot = small_server_url, "streaming_slot"
    consumer = InMemoryConsumer(auto_durable=False)  # never confirms: the slot falls behind
    connector = EmbeddedConnector(ConnectorConfig(dsn=url, slot_name=slot), consumer)
    connector.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO items VALUES (2, 'unconfirmed', 1)")
        while consumer.count < 3:
            connector.poll(0.5)
        push_wal_past_the_slot(url)
        with pytest.raises(SlotInvalidated, match="max_slot_wal_keep_size"):
            for _ in range(20):
                connector.poll(0.5)
    finally:
        connector.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
