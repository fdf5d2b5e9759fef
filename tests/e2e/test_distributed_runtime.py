"""The same storefront story on the distributed runtime: Debezium on Kafka Connect and a
Faust worker feed the read model the APIs serve."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime
from rustok import demo
from rustok.demo_access import ensure_demo_access
from rustok.distributed import DistributedPipeline
from rustok.up import LocalPlatform, PlatformOptions
from tests.e2e.conftest import Running
from tests.e2e.test_content_team_to_storefront import T_SHIRTS, handles, search, wrote

pytestmark = pytest.mark.kafka


@pytest.fixture
def distributed(database_url: str, engine: sa.Engine, tmp_path: Path, kafka_runtime: KafkaRuntime
                ) -> Iterator[Running]:
    demo.seed_demo(engine)
    access = ensure_demo_access(database_url, tmp_path)
    platform = LocalPlatform(PlatformOptions(database_url=database_url, state_dir=tmp_path, write_port=0,
                                             search_port=0, topic_prefix="e2edist", kafka=True,
                                             wait_bound_seconds=30),
                             kafka_runtime=kafka_runtime)
    try:
        platform.start()
        token = httpx.post(f"{platform.write_url}/v1/auth/login", json={
            "tenant": access.tenant_slug, "email": access.admin_email, "password": access.password}
        ).json()["access_token"]
        with httpx.Client(base_url=platform.write_url, headers={"Authorization": f"Bearer {token}"}) as write, \
                httpx.Client(base_url=platform.search_url, timeout=30,
                             headers={"Authorization": f"Bearer {access.search_public_key}"}) as search_client:
            yield Running(platform, access, write, search_client)
    finally:
        platform.stop()
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


def test_a_product_written_through_the_api_is_searchable_through_debezium_and_faust(distributed: Running) -> None:
    running = distributed
    running.platform.search_url  # noqa: B018 — the APIs are up
    demo_hits = running.search.get("/v1/products/search", params={"q": "linen", "locale": "en",
                                                                   "min_version": "0/1"})
    assert demo_hits.status_code == 200
    created = running.write.post("/v1/products", json={
        "handle": "wool-scarf", "category_ids": [T_SHIRTS], "status": "published",
        "translations": [{"locale": "en", "title": "Merino Wool Scarf"}, {"locale": "de", "title": "Wollschal"}],
        "variants": [{"sku": "SCARF-1", "prices": [{"currency_code": "EUR", "amount": 4900}],
                      "inventory": [{"stocked_quantity": 3}]}]})
    token = wrote(created, 201)
    assert handles(search(running, token, q="scarf", locale="en", currency="EUR", price_max=5000,
                          category="apparel")) == ["wool-scarf"]
    assert handles(search(running, token, q="wollschal", locale="de")) == ["wool-scarf"]
    token = wrote(running.write.delete(f"/v1/products/{created.json()['id']}"))
    assert handles(search(running, token, q="scarf", locale="en")) == []
