"""Two locales of one language share their analysed text fields in Tantivy: a text search
in one of them must still leave the other out (its locale filter cannot be dropped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from search_api.app import create_app
from search_api.settings import SearchSettings
from tests.integration.search_api.catalog import Catalog, product
from tests.integration.search_api.conftest import handles

P = "/v1/products/search"


@pytest.fixture(scope="module")
def client(search_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    catalog = Catalog(search_db_url, Path(tmp_path_factory.mktemp("locale-index")))
    shop = catalog.tenant("two-englishes", locales=("en", "en-GB", "de"))
    catalog.publish([product(shop, "torch-us", "Flashlight Torch", locale="en"),
                     product(shop, "torch-gb", "Electric Torch", locale="en-GB"),
                     product(shop, "torch-de", "Torch Taschenlampe", locale="de")])
    settings = SearchSettings(database_url=SecretStr(search_db_url), index_dir=catalog.index_root,
                              rate_limit_per_second=1000.0, rate_limit_burst=1000)
    with TestClient(create_app(settings)) as api:
        api.headers["Authorization"] = f"Bearer {catalog.key(shop, 'search_public')}"
        yield api


def test_a_text_search_stays_in_its_locale_when_another_locale_shares_the_language(client: TestClient) -> None:
    assert handles(client.get(P, params={"q": "torch", "locale": "en"})) == ["torch-us"]
    assert handles(client.get(P, params={"q": "torch", "locale": "en-GB"})) == ["torch-gb"]
    assert handles(client.get(P, params={"q": "torch", "locale": "de"})) == ["torch-de"]
    counted = client.get(P, params={"q": "torch", "locale": "en", "facets": "category"}).json()
    assert counted["total"] == 1
