"""The same storefront story on the distributed runtime: Debezium on Kafka Connect and a
Faust worker feed the read model the APIs serve."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Running
from tests.e2e.test_content_team_to_storefront import T_SHIRTS, handles, search, wrote

pytestmark = pytest.mark.kafka


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
