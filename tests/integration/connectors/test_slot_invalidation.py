"""What happens when a slot falls more than ``max_slot_wal_keep_size`` behind.

A separate small PostgreSQL with ``max_slot_wal_keep_size = 1MB``: WAL is written and
switched past the slot's segment, and a CHECKPOINT invalidates the slot. Before that,
lag reporting says the slot is at risk; after it, the connector refuses to go on with
:class:`SlotInvalidated`, whether it was stopped, streaming or in its snapshot at the time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg
import pytest

from connectors.embedded import ChangeRecord, ConnectorConfig, EmbeddedConnector, InMemoryConsumer, SlotInvalidated
from connectors.embedded.lag import read_slot_lag
from rustok.postgres import ensure_database
from tests.integration.slotlimit import push_wal_past_the_slot, slot_status, small_slot_server

from .conftest import SCHEMA


@pytest.fixture(scope="module")
def small_server_url() -> Iterator[str]:
    with small_slot_server(55991) as info:
        ensure_database(info.url("postgres"), "shop")
        url = info.url("shop")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield url


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


def test_a_snapshot_whose_slot_is_invalidated_meanwhile_stops_at_the_next_batch(small_server_url: str) -> None:
    url, slot = small_server_url, "snapshot_slot"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 100) g")
    pushed: list[int] = []

    def write_while_snapshotting(batch: Sequence[ChangeRecord]) -> None:
        if not pushed:  # what a rebuild's sinks do to the same server, in GBs
            push_wal_past_the_slot(url)
            pushed.append(len(batch))

    consumer = InMemoryConsumer(on_batch=write_while_snapshotting)
    connector = EmbeddedConnector(
        ConnectorConfig(dsn=url, slot_name=slot, snapshot_batch_size=10, slot_watch_interval=0.0), consumer)
    try:
        with pytest.raises(SlotInvalidated, match="while its snapshot was read and built") as raised:
            connector.start()
    finally:
        connector.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM notes")
    assert "max_slot_wal_keep_size" in str(raised.value)
    # Stopped at the batch after the slot was lost, not at the snapshot's end.
    assert consumer.count == pushed[0] < 100
    assert slot_status(url, slot)[0] == "lost"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
