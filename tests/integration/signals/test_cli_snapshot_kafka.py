"""``rustok snapshot --kafka``: Debezium on the local Kafka runtime re-reads one tenant's rows."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from rustok.settings import get_settings

pytestmark = pytest.mark.kafka

SLOT = "rustok_debezium_cli"
CONNECTOR = "rustok-snapshot-cli"
TOPIC = "rustok.public.commerce_products"


def wait_for_initial_snapshot(bootstrap: str) -> None:
    """Until Debezium's initial snapshot of the products has reached Kafka."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
        from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline, "Debezium did not snapshot the products"
            if TOPIC in consumer.topics():
                partition = TopicPartition(TOPIC, 0)
                if consumer.end_offsets([partition])[partition] >= len(demo.PRODUCTS):
                    return
            time.sleep(0.5)
    finally:
        consumer.close()


def test_a_kafka_snapshot_of_one_tenant_is_followed_to_the_end(
    kafka_runtime: KafkaRuntime, database_url: str, admin_url: str, two_tenants: str, tmp_path: Path
) -> None:
    from rustok import cli

    config = registration.load_config(**registration.connection_settings(database_url), **{"slot.name": SLOT})
    registration.register(kafka_runtime.connect_url, config, name=CONNECTOR, timeout=120)
    env = {"RUSTOK_DATABASE_URL": database_url, "RUSTOK_STATE_DIR": str(tmp_path / "state")}
    try:
        wait_for_initial_snapshot(kafka_runtime.bootstrap_servers)
        get_settings.cache_clear()
        result = CliRunner().invoke(cli.app, [
            "snapshot", "--table", "commerce_products", "--tenant", demo.DEMO_SLUG, "--kafka",
            "--bootstrap", kafka_runtime.bootstrap_servers, "--idle", "4", "--timeout", "120",
        ], env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()
        registration.delete(kafka_runtime.connect_url, CONNECTOR)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for _ in range(50):
                try:
                    conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                                 " WHERE slot_name = %s", (SLOT,))
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.2)
    assert result.exit_code == 0, result.output
    report = " ".join(result.output[result.output.index("incremental snapshot ("):].split())
    count = len(demo.PRODUCTS)
    assert f"commerce_products │ {count} │ {count} │ done" in report
