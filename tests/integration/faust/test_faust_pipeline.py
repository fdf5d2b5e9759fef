"""The Faust runtime end to end: Debezium on Kafka Connect → ``faust -A pipelines.app worker``
(a real subprocess) → JSONB read tables and Tantivy, on the demo catalogue.

One database, connector (own topic prefix and slot) and worker per module; tests
change distinct rows so their order does not matter.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from connectors.kafka_runtime import KafkaRuntime
from contracts.topics import dlq_topic, table_topic
from rustok import demo
from tests.integration.faust.harness import (
    Debezium, Worker, applied_lsn, produce, read_topic, running, unique, wait_for, wal_position,
)
from tests.integration.runtime.readmodel import table_documents, tantivy_documents
from write_api.models import commerce, tenancy

pytestmark = pytest.mark.kafka

TENANT = str(demo.TENANT_ID)
PIPELINE = "faust"


@pytest.fixture(scope="module")
def worker(kafka_runtime: KafkaRuntime, module_database_url: str, module_engine: sa.Engine, debezium: Debezium,
           module_dir: Path) -> Iterator[Worker]:
    demo.seed_demo(module_engine)
    faust = Worker(module_dir / "worker", {
        "broker": kafka_runtime.bootstrap_servers, "topic_prefix": debezium.prefix,
        "database_url": module_database_url, "index_dir": str(module_dir / "index"),
        "app_id": unique("faust-app-"), "slot_name": debezium.slot, "index_version": "1", "pipeline": PIPELINE,
    })
    with running(faust):
        try:
            wait_for(lambda: len(table_documents(module_database_url)) >= 1 or not faust.alive(), 90,
                     "first documents in the read tables")
            assert faust.alive(), faust.log_tail()
            yield faust
        finally:
            assert faust.alive(), f"the worker died:\n{faust.log_tail()}"


def _index(module_dir: Path, doc_type: str = "product") -> dict[tuple[str, str, str], dict[str, Any]]:
    return tantivy_documents(module_dir / "index", doc_type, 1)


def _product_doc(url: str, handle: str, locale: str = "en", tenant: str = TENANT) -> dict[str, Any] | None:
    pid = str(demo.demo_id("product", handle)) if tenant == TENANT else None
    for (t, loc, i), doc in table_documents(url).items():
        if t == tenant and loc == locale and (i == pid or (pid is None and doc.get("handle") == handle)):
            return doc
    return None


def _both_sinks_agree(url: str, module_dir: Path) -> bool:
    return table_documents(url) == _index(module_dir)


def test_the_demo_catalogue_reaches_both_sinks_in_every_locale(worker: Worker, module_database_url: str,
                                                                 module_dir: Path) -> None:
    expected = {(locale, handle) for locale in demo.LOCALES for handle in demo.PRODUCTS}

    def arrived() -> bool:
        rows = table_documents(module_database_url)
        return {(loc, doc["handle"]) for (t, loc, _), doc in rows.items() if t == TENANT} >= expected

    def content_slugs() -> set[str]:
        content = table_documents(module_database_url, "index_content")
        return {doc["slug"] for (t, _, _), doc in content.items() if t == TENANT}

    wait_for(arrived, 60, "every demo product in every locale")
    # Each table has its own topic, so pages and posts may land after the products.
    wait_for(lambda: content_slugs() >= set(demo.PAGES) | set(demo.POSTS), 30, "every demo page and post")
    wait_for(lambda: _both_sinks_agree(module_database_url, module_dir), 30, "Tantivy equal to the JSONB rows")
    assert content_slugs() >= set(demo.PAGES) | set(demo.POSTS)


def test_a_commit_token_is_reached_within_a_bound_and_never_before_its_documents(
    worker: Worker, module_database_url: str, module_dir: Path
) -> None:
    product = demo.demo_id("product", "travel-mug")
    with psycopg.connect(module_database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = 'Token Mug' WHERE product_id = %s"
                     " AND locale = 'en'", (product,))
        token = wal_position(conn)
    started = datetime.now(UTC)
    wait_for(lambda: applied_lsn(module_database_url, PIPELINE) >= token, 20, "the checkpoint reaches the token",
             interval=0.01)
    reached = (datetime.now(UTC) - started).total_seconds()
    # Once the token is reached, the commit must be visible in both sinks, at once.
    doc = _product_doc(module_database_url, "travel-mug")
    assert doc is not None and doc["title"] == "Token Mug"
    in_index = _index(module_dir)[(TENANT, "en", str(product))]
    assert in_index["title"] == "Token Mug"
    assert reached < 10


def test_a_category_rename_reaches_every_product_of_the_category(worker: Worker, module_database_url: str,
                                                                  module_dir: Path) -> None:
    with psycopg.connect(module_database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_category_translations SET name = 'Tassen und Becher'"
                     " WHERE category_id = %s AND locale = 'de'", (demo.demo_id("category", "mugs"),))

    def renamed() -> bool:
        docs = [_product_doc(module_database_url, handle, "de") for handle in ("ceramic-mug", "travel-mug")]
        return all(d is not None and "Tassen und Becher" in str(d["categories"]) for d in docs)

    wait_for(renamed, 30, "both mugs carry the new category name")
    wait_for(lambda: _both_sinks_agree(module_database_url, module_dir), 30, "Tantivy equal to the JSONB rows")


def test_a_delete_and_an_unpublish_remove_documents_from_both_sinks(worker: Worker, module_database_url: str,
                                                                      module_dir: Path) -> None:
    zip_hoodie = demo.demo_id("product", "zip-hoodie")
    with psycopg.connect(module_database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_products SET status = 'draft', published_at = NULL WHERE id = %s",
                     (demo.demo_id("product", "alpine-hoodie"),))
        conn.execute("DELETE FROM commerce_products WHERE id = %s", (zip_hoodie,))

    def gone() -> bool:
        docs = table_documents(module_database_url)
        statuses = {doc["status"] for (t, _, _), doc in docs.items() if doc["handle"] == "alpine-hoodie"}
        deleted = [k for k in docs if k[2] == str(zip_hoodie)]
        return not deleted and statuses in (set(), {"draft"})

    wait_for(gone, 30, "the deleted product gone and the unpublished one no longer published")
    wait_for(lambda: _both_sinks_agree(module_database_url, module_dir), 30, "Tantivy equal to the JSONB rows")
    assert not [k for k in _index(module_dir) if k[2] == str(zip_hoodie)]


def test_a_malformed_event_goes_to_the_dlq_with_its_reason_and_the_stream_goes_on(
    worker: Worker, kafka_runtime: KafkaRuntime, debezium: Debezium, module_database_url: str
) -> None:
    bootstrap = kafka_runtime.bootstrap_servers
    topic = table_topic("commerce_tags", prefix=debezium.prefix)
    produce(bootstrap, topic, b'{"id": "not-a-uuid"}', b'{"op": "c", "after": {"broken": ')
    produce(bootstrap, topic, b'{"id": "x"}', b'{"op": "c", "after": {"id": "x"}, "source": {}}')
    with psycopg.connect(module_database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = 'After The Bad Event' WHERE product_id = %s"
                     " AND locale = 'en'", (demo.demo_id("product", "ceramic-mug"),))
    wait_for(lambda: (_product_doc(module_database_url, "ceramic-mug") or {}).get("title") == "After The Bad Event",
             30, "a change after the bad events is projected")
    wait_for(lambda: len([v for _, v in read_topic(bootstrap, dlq_topic(prefix=debezium.prefix))
                          if v["topic"] == topic]) >= 2, 30, "both dead letters")
    letters = [v for _, v in read_topic(bootstrap, dlq_topic(prefix=debezium.prefix)) if v["topic"] == topic]
    unreadable = next(v for v in letters if v["stage"] == "decode" and "not JSON" in v["reason"])
    assert unreadable["payload"] == '{"op": "c", "after": {"broken": '
    assert unreadable["error_type"] and unreadable["offset"] is not None
    invalid = next(v for v in letters if v is not unreadable)
    assert invalid["reason"] and '"not-a-uuid"' not in invalid["payload"]
    assert re.search(r"rustok_pipeline_events_total\{pipeline=\"faust\",stage=\"dlq\"\} [1-9]", worker.metrics())


def _second_tenant(engine: sa.Engine) -> tuple[uuid.UUID, uuid.UUID]:
    tenant, product = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(sa.insert(tenancy.Tenant), [{"id": tenant, "slug": f"other-{tenant.hex[:8]}",
                                                  "name": "Other", "default_locale": "en"}])
        conn.execute(sa.insert(tenancy.TenantLocale), [{"id": uuid.uuid4(), "tenant_id": tenant, "locale": "en",
                                                        "position": 0}])
        conn.execute(sa.insert(commerce.Product), [{"id": product, "tenant_id": tenant, "handle": "linen-shirt",
                                                    "status": "published", "published_at": datetime.now(UTC)}])
        conn.execute(sa.insert(commerce.ProductTranslation), [{"id": uuid.uuid4(), "tenant_id": tenant,
                                                               "product_id": product, "locale": "en",
                                                               "title": "Another Tenant's Linen"}])
    return tenant, product


def test_tenants_never_see_or_touch_each_others_documents_in_either_sink(
    worker: Worker, module_database_url: str, module_engine: sa.Engine, module_dir: Path
) -> None:
    tenant, product = _second_tenant(module_engine)
    key = (str(tenant), "en", str(product))
    # The product and its translation reach the worker on two topics: the document may show
    # the product alone first, so wait for the translation's title.
    wait_for(lambda: table_documents(module_database_url).get(key, {}).get("title") == "Another Tenant's Linen",
             30, "the other tenant's product")
    ours = _product_doc(module_database_url, "linen-shirt")
    assert ours is not None and ours["title"] == "Linen Shirt"
    theirs = table_documents(module_database_url)[key]
    assert theirs["title"] == "Another Tenant's Linen" and theirs["tenant_id"] == str(tenant)
    wait_for(lambda: key in _index(module_dir), 30, "the other tenant's product in Tantivy")
    with psycopg.connect(module_database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM commerce_products WHERE id = %s", (product,))
    wait_for(lambda: key not in table_documents(module_database_url) and key not in _index(module_dir), 30,
             "the other tenant's product removed")
    assert (_product_doc(module_database_url, "linen-shirt") or {}).get("title") == "Linen Shirt"
    assert (TENANT, "en", str(demo.demo_id("product", "linen-shirt"))) in _index(module_dir)
    assert all(doc["tenant_id"] == t for (t, _, _), doc in table_documents(module_database_url).items())


def test_metrics_show_events_documents_lag_and_freshness(worker: Worker) -> None:
    text = wait_for(lambda: (lambda t: t if "rustok_pipeline_freshness_seconds_count" in t else "")(worker.metrics()),
                    30, "freshness observed")
    assert re.search(r'rustok_pipeline_events_total\{pipeline="faust",stage="source"\} [1-9]', text)
    assert re.search(r'rustok_pipeline_events_total\{pipeline="faust",stage="sink"\} [1-9]', text)
    assert re.search(r'rustok_pipeline_applied_lsn\{pipeline="faust"\} [1-9]', text)
    assert 'rustok_pipeline_lag_bytes{pipeline="faust"}' in text
