"""Product writes: atomicity, conflicts, optimistic concurrency, tokens, outbox, limits."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contracts.consistency import parse_token
from tests.integration.write_api.conftest import Tenant, World, count, make_tenant, ok, product_body


def test_a_product_whose_third_variant_repeats_an_existing_sku_leaves_no_rows_and_no_event(client: TestClient, world: World) -> None:
    h = world.a.admin
    outbox, products, variants = count(world.engine, "outbox"), count(world.engine, "commerce_products"), count(world.engine, "commerce_variants")
    response = client.post("/v1/products", headers=h, json=product_body("clash", ["C-1", "C-2", "tee-s"]))
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == ["body", "variants", 2, "sku"]
    assert (count(world.engine, "outbox"), count(world.engine, "commerce_products"), count(world.engine, "commerce_variants")) == (outbox, products, variants)
    assert count(world.engine, "commerce_product_translations", "product_id NOT IN (SELECT id FROM commerce_products)") == 0


def test_a_duplicate_handle_is_a_409_naming_the_field(client: TestClient, world: World) -> None:
    response = client.post("/v1/products", headers=world.a.admin, json=product_body("tee", ["OTHER-1"]))
    assert response.status_code == 409
    assert response.json()["errors"] == [{"path": ["body", "handle"], "message": "a product with this handle already exists"}]


def test_validation_errors_come_as_problems_with_field_paths_and_write_nothing(client: TestClient, world: World) -> None:
    body = product_body("bad", ["B-1"])
    body["variants"][0]["prices"][0]["currency_code"] = "EURO"
    body["translations"][1]["locale"] = "fr"
    outbox = count(world.engine, "outbox")
    response = client.post("/v1/products", headers=world.a.admin, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    paths = [e["path"] for e in response.json()["errors"]]
    assert ["body", "variants", 0, "prices", 0, "currency_code"] in paths
    locale = client.post("/v1/products", headers=world.a.admin, json={**product_body("bad2", []), "translations": [
        {"locale": "fr", "title": "Français"}]})
    assert locale.status_code == 422 and locale.json()["errors"][0]["path"] == ["body", "translations", 0, "locale"]
    assert count(world.engine, "outbox") == outbox


def test_every_write_carries_a_parseable_consistency_token_and_appends_one_outbox_event(client: TestClient, world: World) -> None:
    before = count(world.engine, "outbox")
    response = client.post("/v1/products", headers=world.a.admin, json=product_body("fresh", ["F-1"]))
    body = ok(response, 201)
    assert parse_token(response.headers["X-Consistency-Token"]) == parse_token(body["consistency_token"]) > 0
    assert count(world.engine, "outbox") == before + 1
    assert count(world.engine, "outbox", "aggregateid = :id AND type = 'ProductCreated'", id=body["id"]) == 1
    published = client.post(f"/v1/products/{body['id']}/publish", headers=world.a.admin)
    assert parse_token(ok(published)["consistency_token"]) >= parse_token(body["consistency_token"])
    assert count(world.engine, "outbox", "aggregateid = :id AND type = 'ProductPublished'", id=body["id"]) == 1


def test_a_stale_if_match_gets_412_and_changes_nothing(client: TestClient, world: World) -> None:
    url = f"/v1/products/{world.a.ids['product_id']}"
    etag = client.get(url, headers=world.a.admin).headers["ETag"]
    first = client.patch(url, headers={**world.a.admin, "If-Match": etag}, json={"vendor": "First"})
    assert ok(first)["vendor"] == "First" and first.headers["ETag"] != etag
    second = client.patch(url, headers={**world.a.admin, "If-Match": etag}, json={"vendor": "Second"})
    assert second.status_code == 412
    assert client.delete(url, headers={**world.a.admin, "If-Match": etag}).status_code == 412
    assert ok(client.get(url, headers=world.a.admin))["vendor"] == "First"
    assert client.delete(url, headers={**world.a.admin, "If-Match": first.headers["ETag"]}).status_code == 200


def test_changing_a_variant_changes_the_products_etag(client: TestClient, world: World) -> None:
    url = f"/v1/products/{world.a.ids['product_id']}"
    etag = client.get(url, headers=world.a.admin).headers["ETag"]
    ok(client.put(f"{url}/variants/{world.a.ids['variant_id']}/inventory/default", headers=world.a.admin,
                  json={"stocked_quantity": 1}))
    assert client.get(url, headers=world.a.admin).headers["ETag"] != etag


def test_publishing_twice_is_an_invalid_transition(client: TestClient, world: World) -> None:
    response = client.post(f"/v1/products/{world.a.ids['product_id']}/publish", headers=world.a.admin)
    assert response.status_code == 422 and response.json()["code"] == "invalid_transition"


def test_an_oversized_body_gets_413_before_anything_is_written(client: TestClient, world: World) -> None:
    body = product_body("huge", ["H-1"])
    body["translations"][0]["description"] = "x" * 300_000
    response = client.post("/v1/products", headers=world.a.admin, json=body)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert count(world.engine, "commerce_products", "handle = 'huge'") == 0


def test_order_totals_are_computed_on_the_server(client: TestClient, world: World) -> None:
    order = ok(client.post("/v1/orders", headers=world.a.admin, json={
        "currency_code": "EUR", "shipping_total": 500, "lines": [{"variant_id": world.a.ids["variant_id"], "quantity": 3}]}), 201)
    assert (order["subtotal"], order["total"]) == (3000, 3500)
    assert order["lines"][0]["unit_price"] == 1000


def test_bulk_import_reports_each_line_and_keeps_the_good_ones(client: TestClient, world: World) -> None:
    import orjson

    lines = [product_body("imp-a", ["IA"]), {"handle": "Bad Handle"}, product_body("tee", ["IB"]), product_body("imp-c", ["IC"])]
    payload = b"\n".join(orjson.dumps(line) for line in lines) + b"\nnot json\n"
    response = client.post("/v1/import/products", content=payload,
                           headers={**world.a.admin, "Content-Type": "application/x-ndjson"})
    results = ok(response)["results"]
    assert [(r["line"], r["status"]) for r in results] == [(1, 201), (2, 422), (3, 409), (4, 201), (5, 422)]
    assert count(world.engine, "commerce_products", "handle IN ('imp-a', 'imp-c')") == 2
    assert client.post("/v1/import/products", json={}, headers=world.a.admin).status_code == 415


def test_a_tenant_cannot_use_a_locale_it_has_not_enabled(client: TestClient) -> None:
    tenant: Tenant = make_tenant(client, "solo", ["en"])
    response = client.post("/v1/products", headers=tenant.admin, json=product_body("x", []))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == ["body", "translations", 1, "locale"]


def test_the_etag_of_a_creation_is_the_version_a_read_and_an_update_see(client: TestClient, world: World) -> None:
    created = client.post("/v1/products", headers=world.a.admin, json=product_body("cap", ["CAP-1", "CAP-2"]))
    body = ok(created, 201)
    url = f"/v1/products/{body['id']}"
    read = client.get(url, headers=world.a.admin)
    assert created.headers["ETag"] == read.headers["ETag"]
    assert ok(read)["created_at"] == body["created_at"] and ok(read)["variants"] == body["variants"]
    assert ok(client.patch(url, headers={**world.a.admin, "If-Match": created.headers["ETag"]}, json={"vendor": "Hatter"}))
