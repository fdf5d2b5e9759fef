"""Rows held for the commit (a product creation's rows, the outbox) reach their columns
exactly, whatever the values: they travel as one JSON document per table and group."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.write_api.conftest import make_tenant, ok, product_body


def _create(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = ok(client.post("/v1/products", json=body, headers=headers), 201)
    read = ok(client.get(f"/v1/products/{created['id']}", headers=headers))
    assert read == {**created, "consistency_token": None}
    return read


def test_metadata_options_and_text_come_back_exactly_as_sent(client: TestClient, engine: sa.Engine) -> None:
    tenant = make_tenant(client, "exact")
    metadata = {"nested": {"list": [1, 2.5, None, True, "ü ☃ \"quoted\" \\ back"], "empty": {}},
                "large": 2**63 - 1, "small": -(2**63), "fraction": 0.1, "text": "line\nbreak\ttab"}
    body = product_body("exact-product", vendor="Vendor \"A\" / ☃", metadata=metadata)
    body["variants"][0]["options"] = {"colour": "grün", "note": "{\"not\": \"json\"}"}
    read = _create(client, tenant.admin, body)
    assert read["metadata"] == metadata
    assert read["vendor"] == "Vendor \"A\" / ☃"
    assert read["variants"][0]["options"] == {"colour": "grün", "note": "{\"not\": \"json\"}"}
    assert [p["amount"] for v in read["variants"] for p in v["prices"]] == [1000, 1100, 1001, 1101]
    with engine.connect() as conn:
        payload = conn.execute(sa.text("SELECT payload FROM outbox WHERE aggregateid = :id"),
                               {"id": read["id"]}).scalar_one()
    assert payload["handle"] == "exact-product" and payload["variants"] == 2


def test_an_integer_beyond_64_bits_in_metadata_is_stored_all_the_same(client: TestClient) -> None:
    tenant = make_tenant(client, "huge")
    metadata = {"huge": 2**70, "negative": -(2**80)}
    read = _create(client, tenant.admin, product_body("huge-product", metadata=metadata))
    assert read["metadata"] == metadata


def test_a_product_creations_outbox_event_carries_the_callers_request_id(client: TestClient, engine: sa.Engine) -> None:
    tenant = make_tenant(client, "traced")
    response = client.post("/v1/products", json=product_body("traced-product"),
                           headers={**tenant.admin, "X-Request-Id": "trace-product-7"})
    created = ok(response, 201)
    assert response.headers["ETag"] == f'W/"{created["version"]}"'
    assert response.headers["X-Consistency-Token"] == created["consistency_token"]
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT type, aggregateid FROM outbox WHERE request_id = 'trace-product-7'")).all()
    assert [(r.type, r.aggregateid) for r in rows] == [("ProductCreated", created["id"])]
