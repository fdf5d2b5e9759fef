"""The embedded connector runs incremental snapshots requested through the signal table,
while it keeps streaming, and emits what Debezium emits for them."""

from __future__ import annotations

import psycopg

from connectors.embedded import ConnectorConfig, EmbeddedConnector, InMemoryConsumer
from connectors.embedded.records import ChangeRecord
from contracts.signals import request_incremental_snapshot, tenant_conditions
from rustok import demo

from tests.waiting import wait_for

from .conftest import OTHER_PRODUCTS

PRODUCTS = "rustok.public.commerce_products"
SIGNALS = "rustok.public.rustok_signals"


def incremental(records: list[ChangeRecord], topic: str = PRODUCTS) -> list[ChangeRecord]:
    return [r for r in records if r.topic == topic and r.value and r.value["source"]["snapshot"] == "incremental"]


def run_snapshot(database_url: str, tables: list[str], tenant: str | None, chunk_size: int = 1024,
                 ) -> tuple[InMemoryConsumer, EmbeddedConnector, str]:
    consumer = InMemoryConsumer()
    connector = EmbeddedConnector(ConnectorConfig(dsn=database_url, slot_name="signals_test",
                                                  incremental_chunk_size=chunk_size), consumer)
    connector.start()
    with psycopg.connect(database_url) as conn:
        conditions = None if tenant is None else tenant_conditions(tables, tenant)
        signal = request_incremental_snapshot(conn, tables, conditions=conditions)
    wait_for(lambda: bool(connector.incremental_progress())
             and all(p.finished for p in connector.incremental_progress()), poll=lambda: connector.poll(0.2))
    connector.poll(0.2)
    return consumer, connector, signal


def test_a_tenant_scoped_snapshot_reads_that_tenants_rows_only_in_debeziums_shape(
    database_url: str, two_tenants: str
) -> None:
    consumer, connector, signal = run_snapshot(database_url, ["commerce_products"], str(demo.TENANT_ID))
    try:
        initial = {r.key["id"]: r.value["after"] for r in consumer.records  # type: ignore[index]
                   if r.topic == PRODUCTS and r.value and r.value["op"] == "r"
                   and r.value["source"]["snapshot"] != "incremental"}
        reads = incremental(consumer.records)
        assert {r.value["after"]["tenant_id"] for r in reads} == {str(demo.TENANT_ID)}  # type: ignore[index]
        assert len(reads) == len(demo.PRODUCTS)
        for read in reads:
            value = read.value
            assert value is not None and read.key is not None
            assert (value["op"], value["before"], value["transaction"]) == ("r", None, None)
            assert value["after"] == initial[read.key["id"]]
        # Emitted right after the window's close marker, carrying its position.
        index = consumer.records.index(reads[0])
        close = consumer.records[index - 1]
        assert close.topic == SIGNALS and close.value is not None
        assert close.value["after"]["type"] == "snapshot-window-close"
        # As Debezium 3.2.7 does: no lsn or txId, the close marker's sequence (its LSN second).
        sources = [r.value["source"] for r in reads]  # type: ignore[index]
        marker = close.value["source"]["sequence"]
        assert {(s["lsn"], s["txId"], s["sequence"]) for s in sources} == {(None, None, marker)}
        assert close.value["source"]["sequence"].endswith(f'"{close.value["source"]["lsn"]}"]')
        (progress,) = connector.incremental_progress()
        assert (progress.signal_id, progress.collection, progress.rows_total, progress.rows_done, progress.error) \
            == (signal, "public.commerce_products", len(demo.PRODUCTS), len(demo.PRODUCTS), None)
    finally:
        connector.close()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT rows_total, rows_done, finished_at IS NOT NULL FROM rustok_snapshot_progress"
                           " WHERE signal_id = %s", (signal,)).fetchone()
    assert row == (len(demo.PRODUCTS), len(demo.PRODUCTS), True)


def test_small_chunks_read_every_row_once_in_key_order_across_windows(database_url: str, two_tenants: str) -> None:
    consumer, connector, _ = run_snapshot(database_url, ["commerce_products", "tenants"], None, chunk_size=2)
    connector.close()
    reads = incremental(consumer.records)
    ids = [r.key["id"] for r in reads]  # type: ignore[index]
    assert ids == sorted(ids) and len(set(ids)) == len(demo.PRODUCTS) + OTHER_PRODUCTS
    assert len({r.value["source"]["sequence"] for r in reads}) == -(-len(ids) // 2)  # type: ignore[index]
    assert len(incremental(consumer.records, "rustok.public.tenants")) == 2


def test_a_bad_filter_fails_that_table_with_the_reason_and_streaming_goes_on(
    database_url: str, two_tenants: str
) -> None:
    consumer = InMemoryConsumer()
    connector = EmbeddedConnector(ConnectorConfig(dsn=database_url, slot_name="signals_test"), consumer)
    with connector, psycopg.connect(database_url, autocommit=True) as conn:
        request_incremental_snapshot(conn, ["commerce_products"], conditions={"commerce_products": "no_such = 1"})
        conn.execute("UPDATE commerce_products SET handle = 'still-streaming' WHERE handle = 'other-0'")
        wait_for(lambda: any(p.finished for p in connector.incremental_progress()), poll=lambda: connector.poll(0.2))
        wait_for(lambda: any(r.value and (r.value.get("after") or {}).get("handle") == "still-streaming"
                             for r in consumer.records), poll=lambda: connector.poll(0.2))
        (progress,) = connector.incremental_progress()
        assert progress.error is not None and "no_such" in progress.error
        assert incremental(consumer.records) == []


def test_a_snapshot_interrupted_by_a_restart_is_resumed_and_reads_every_row(
    database_url: str, two_tenants: str
) -> None:
    consumer = InMemoryConsumer()
    config = ConnectorConfig(dsn=database_url, slot_name="signals_test", incremental_chunk_size=2)
    first = EmbeddedConnector(config, consumer)
    with first, psycopg.connect(database_url) as conn:
        signal = request_incremental_snapshot(conn, ["commerce_products"])
        conn.commit()
        wait_for(lambda: any(p.rows_done for p in first.incremental_progress()), poll=lambda: first.poll(0.1))
        assert not first.incremental_progress()[0].finished
    seen_before_restart = len(consumer.records)
    second = EmbeddedConnector(config, consumer)
    with second:
        wait_for(lambda: bool(second.incremental_progress()) and second.incremental_progress()[0].finished,
                 poll=lambda: second.poll(0.2))
        (progress,) = second.incremental_progress()
    total = len(demo.PRODUCTS) + OTHER_PRODUCTS
    assert (progress.signal_id, progress.rows_total, progress.rows_done, progress.error) == (signal, total, total, None)
    # The resumed snapshot starts the table again: every row is read after the restart.
    read_again = {r.key["id"] for r in incremental(consumer.records[seen_before_restart:])}  # type: ignore[index]
    assert len(read_again) == total
