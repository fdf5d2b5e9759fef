"""A content team writes through the write API; a storefront sees it through the search
API within a second (two through Debezium and Faust), using the write's consistency token
(read-your-writes). Every story runs on both runtimes (``storefront``): embedded, and
Debezium with Faust."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from rustok import demo
from tests.e2e.conftest import Running

T_SHIRTS = str(demo.demo_id("category", "t-shirts"))


def wrote(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    token = response.headers["X-Consistency-Token"]
    assert response.json()["consistency_token"] == token
    return token


def search(running: Running, token: str, **params: Any) -> dict[str, Any]:
    started = time.monotonic()
    response = running.search.get("/v1/products/search", params={**params, "min_version": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["stale"] is False, f"not visible after {time.monotonic() - started:.2f}s"
    return body


def handles(body: dict[str, Any]) -> list[str]:
    return [hit["document"]["handle"] for hit in body["hits"]]


def create_scarf(running: Running) -> tuple[str, str]:
    response = running.write.post("/v1/products", json={
        "handle": "wool-scarf", "vendor": "Nordwind", "category_ids": [T_SHIRTS], "tags": ["new"],
        "translations": [{"locale": "en", "title": "Merino Wool Scarf", "description": "Soft and warm."},
                         {"locale": "de", "title": "Schal aus Merinowolle", "description": "Weich und warm."}],
        "variants": [
            {"sku": "SCARF-GREY", "options": {"color": "grey"}, "inventory": [{"stocked_quantity": 5}],
             "prices": [{"currency_code": "EUR", "amount": 4900}, {"currency_code": "USD", "amount": 5400}]},
            {"sku": "SCARF-RED", "options": {"color": "red"}, "inventory": [{"stocked_quantity": 0}],
             "prices": [{"currency_code": "EUR", "amount": 5900}, {"currency_code": "USD", "amount": 6400}]},
        ],
    })
    wrote(response, 201)
    product_id = response.json()["id"]
    return product_id, wrote(running.write.post(f"/v1/products/{product_id}/publish"))


# How long a storefront may wait for a write: a second embedded; through Debezium and Faust, the
# issue's 2 s (one sample on a loaded CI machine has taken 1.2 s there; the percentiles are in bench/).
VISIBLE_WITHIN = {"embedded": 1.0, "kafka": 2.0}


def test_a_published_product_is_found_in_both_locales_by_text_price_and_category_within_a_second(
    storefront: Running, request: pytest.FixtureRequest,
) -> None:
    _, token = create_scarf(storefront)
    started = time.monotonic()
    english = search(storefront, token, q="wool scarf", locale="en")
    assert time.monotonic() - started < VISIBLE_WITHIN[request.node.callspec.params["storefront"]]
    assert handles(english)[:1] == ["wool-scarf"]
    german = search(storefront, token, q="merinowolle", locale="de")
    assert handles(german) == ["wool-scarf"]
    assert german["hits"][0]["document"]["title"] == "Schal aus Merinowolle"
    in_range = search(storefront, token, q="scarf", locale="en", currency="EUR", price_min=4000, price_max=5000,
                      category="apparel")
    assert handles(in_range) == ["wool-scarf"]
    assert handles(search(storefront, token, q="scarf", locale="en", currency="EUR", price_min=6000)) == []
    assert handles(search(storefront, token, q="scarf", locale="en", category="mugs")) == []


def test_an_update_an_unpublish_and_a_delete_reach_the_storefront(storefront: Running) -> None:
    product_id, _ = create_scarf(storefront)
    token = wrote(storefront.write.patch(f"/v1/products/{product_id}", json={"translations": [
        {"locale": "en", "title": "Cashmere Scarf"}, {"locale": "de", "title": "Kaschmirschal"}]}))
    assert handles(search(storefront, token, q="cashmere", locale="en")) == ["wool-scarf"]
    assert handles(search(storefront, token, q="merino", locale="en")) == []
    token = wrote(storefront.write.post(f"/v1/products/{product_id}/unpublish"))
    assert handles(search(storefront, token, q="cashmere", locale="en")) == []
    admin = {"Authorization": f"Bearer {storefront.access.search_admin_key}", }
    drafts = storefront.search.get("/v1/products/search", headers=admin,
                                params={"q": "cashmere", "locale": "en", "status": "draft", "min_version": token})
    assert [h["document"]["handle"] for h in drafts.json()["hits"]] == ["wool-scarf"], drafts.text
    token = wrote(storefront.write.delete(f"/v1/products/{product_id}"))
    search(storefront, token, q="cashmere", locale="en")
    gone = storefront.search.get("/v1/products/search", headers=admin,
                              params={"q": "cashmere", "locale": "en", "status": "draft", "min_version": token})
    assert gone.json()["hits"] == []
    assert storefront.search.get("/v1/products/wool-scarf", params={"locale": "en"}).status_code == 404


def test_a_category_rename_reaches_every_product_in_it(storefront: Running) -> None:
    _, token = create_scarf(storefront)
    apparel = str(demo.demo_id("category", "apparel"))
    token = wrote(storefront.write.patch(f"/v1/categories/{apparel}", json={"translations": [
        {"locale": "en", "name": "Garments"}, {"locale": "de", "name": "Bekleidung"}]}))
    found = search(storefront, token, q="garments", locale="en")
    assert "wool-scarf" in handles(found) and "linen-shirt" in handles(found)
    scarf = storefront.search.get("/v1/products/wool-scarf", params={"locale": "de"}).json()["document"]
    assert scarf["categories"][0]["path"][0] == "Bekleidung"


def test_a_locale_enabled_or_disabled_for_the_tenant_reindexes_its_documents(storefront: Running, engine: Any) -> None:
    """What PATCH /v1/tenants/{id} writes (tested with the write API): the pipeline sees the
    tenant's locale rows change and rebuilds every document in the new set of locales."""
    import sqlalchemy as sa

    from contracts.consistency import encode_token

    with engine.connect() as conn:
        tenant = str(conn.execute(sa.text("SELECT id FROM tenants WHERE slug = :s"), {"s": demo.DEMO_SLUG}).scalar_one())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE tenant_locales SET enabled = false WHERE tenant_id = :t AND locale = 'de'"), {"t": tenant})
        conn.execute(sa.text("INSERT INTO tenant_locales (id, tenant_id, locale, position) "
                             "VALUES (gen_random_uuid(), :t, 'fr', 3)"), {"t": tenant})
    with engine.connect() as conn:
        token = encode_token(int(conn.execute(sa.text("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")).scalar_one()))
    french = search(storefront, token, q="linen shirt", locale="fr")
    assert "linen-shirt" in handles(french)  # no French text yet: the default locale's text stands in
    with engine.connect() as conn:
        locales = set(conn.execute(sa.text(
            "SELECT DISTINCT locale FROM index_products WHERE tenant_id = :t AND index_version = "
            "(SELECT live_version FROM read_model_aliases WHERE doc_type = 'product')"), {"t": tenant}).scalars())
    assert locales == {"en", "ru", "fr"}


def test_a_pipeline_restart_mid_stream_loses_and_duplicates_nothing(storefront: Running) -> None:
    """A content team keeps creating products while the pipeline stops and starts again
    (the Faust worker, on the distributed runtime): every product is found once."""
    created: list[str] = []
    tokens: list[str] = []
    failures: list[str] = []

    def write_steadily() -> None:
        for n in range(24):
            response = storefront.write.post("/v1/products", json={
                "handle": f"restart-lamp-{n}", "status": "published",
                "translations": [{"locale": "en", "title": f"Restart Lamp {n}"}],
                "variants": [{"sku": f"LAMP-{n}", "prices": [{"currency_code": "EUR", "amount": 1000 + n}]}]})
            if response.status_code != 201:
                failures.append(response.text)
                return
            created.append(f"restart-lamp-{n}")
            tokens.append(response.headers["X-Consistency-Token"])
            time.sleep(0.05)

    writer = threading.Thread(target=write_steadily)
    writer.start()
    while len(created) < 8 and writer.is_alive():
        time.sleep(0.02)
    pipeline = storefront.platform.pipeline
    assert pipeline is not None
    pipeline.stop()  # mid-stream: the writes go on while no pipeline runs
    pipeline.start()
    writer.join(60)
    assert not failures and len(created) == 24
    found = search(storefront, tokens[-1], q="restart lamp", locale="en", limit=50)
    assert found["total"] == 24
    assert sorted(handles(found)) == sorted(created)  # each once: none lost, none duplicated
