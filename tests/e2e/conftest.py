"""The whole platform over real HTTP: PostgreSQL, CDC, pipeline, both APIs.

``running`` is the embedded default; ``distributed`` is Debezium on Kafka Connect and a
Faust worker (for tests marked ``kafka``); ``storefront`` runs a test on each in turn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import secrets
import time

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from rustok.demo_access import DemoAccess, ensure_demo_access
from rustok.distributed import DistributedPipeline
from rustok.up import LocalPlatform, PlatformOptions


@dataclass
class Running:
    platform: LocalPlatform
    access: DemoAccess
    write: httpx.Client
    search: httpx.Client


@pytest.fixture
def running(database_url: str, engine: sa.Engine, tmp_path: Path) -> Iterator[Running]:
    demo.seed_demo(engine)
    access = ensure_demo_access(database_url, tmp_path)
    platform = LocalPlatform(PlatformOptions(database_url=database_url, state_dir=tmp_path, write_port=0,
                                             search_port=0))
    try:
        yield from _serving(platform, access)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


@pytest.fixture
def distributed(database_url: str, engine: sa.Engine, tmp_path: Path, kafka_runtime: KafkaRuntime
                ) -> Iterator[Running]:
    demo.seed_demo(engine)
    access = ensure_demo_access(database_url, tmp_path)
    platform = LocalPlatform(PlatformOptions(database_url=database_url, state_dir=tmp_path, write_port=0,
                                             # Kafka Connect keeps a connector's offsets after it is deleted:
                                             # each test gets its own connector name and topics.
                                             search_port=0, topic_prefix=f"e2e{secrets.token_hex(4)}", kafka=True,
                                             wait_bound_seconds=30),
                             kafka_runtime=kafka_runtime)
    try:
        yield from _serving(platform, access)
    finally:
        pipeline = platform.pipeline
        if isinstance(pipeline, DistributedPipeline):
            registration.delete(kafka_runtime.status().connect_url, pipeline.connector_name)
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while conn.execute("SELECT 1 FROM pg_replication_slots WHERE active AND database = current_database()"
                               ).fetchone() and time.monotonic() < deadline:
                time.sleep(0.2)  # Connect releases the slot shortly after the connector is deleted
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                         " WHERE NOT active AND database = current_database()")


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def storefront(request: pytest.FixtureRequest) -> Running:
    """The platform on each runtime in turn."""
    return request.getfixturevalue("running" if request.param == "embedded" else "distributed")  # type: ignore[no-any-return]


def _serving(platform: LocalPlatform, access: DemoAccess) -> Iterator[Running]:
    """Start ``platform``, log the demo admin in and yield both APIs' clients; stop it after."""
    try:
        platform.start()
        login = httpx.post(f"{platform.write_url}/v1/auth/login", json={
            "tenant": access.tenant_slug, "email": access.admin_email, "password": access.password})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        # The bound of a min_version wait is 30 s on the distributed runtime: a failure says how long it took.
        with httpx.Client(base_url=platform.write_url, headers={"Authorization": f"Bearer {token}"}) as write, \
                httpx.Client(base_url=platform.search_url, timeout=30,
                             headers={"Authorization": f"Bearer {access.search_public_key}"}) as search:
            yield Running(platform, access, write, search)
    finally:
        platform.stop()
