"""A shared read model for the search API tests: two tenants, products and content in
several locales, written once per module through the real sinks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fastapi.testclient import TestClient
from pydantic import SecretStr
from ulid import ULID

from contracts.documents import AuthorRef
from contracts.ids import new_id
from rustok.postgres import ServerInfo, drop_database, ensure_database
from search_api.app import create_app
from search_api.settings import SearchSettings
from tests.integration.search_api.catalog import Catalog, TenantInfo, category, content, product


@dataclass
class World:
    catalog: Catalog
    a: TenantInfo
    b: TenantInfo
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def search_db_url(admin_url: str, pg_server: ServerInfo, migrated_template: str) -> Iterator[str]:
    name = f"s_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=migrated_template)
    yield pg_server.url(name)
    drop_database(admin_url, name)


def build_world(catalog: Catalog) -> World:
    a, b = catalog.tenant("shop-a"), catalog.tenant("shop-b", locales=("en",))
    world = World(catalog=catalog, a=a, b=b)
    tees = category(["apparel", "t-shirts"], ["Apparel", "T-shirts"])
    hoodies = category(["apparel", "hoodies"], ["Apparel", "Hoodies"])
    socks = category(["apparel", "socks"], ["Apparel", "Socks"])
    mugs = category(["home", "mugs"], ["Home", "Mugs"])
    tees_de = category(["apparel", "t-shirts"], ["Bekleidung", "T-Shirts"])
    hoodies_de = category(["apparel", "hoodies"], ["Bekleidung", "Kapuzenpullover"])
    tee_id, hoodie_id = new_id(), new_id()
    docs: list[Any] = [
        product(a, "organic-cotton-tee", "Organic Cotton T-Shirt", product_id=tee_id, categories=[tees],
                tags=["organic", "bestseller"], vendor="Acme", prices={"EUR": 2490, "USD": 2790}, stock=12,
                options={"size": ["S", "M", "L"], "color": ["white"]}, published_days=10,
                description="A soft everyday shirt made from organic cotton."),
        product(a, "organic-cotton-tee", "T-Shirt aus Bio-Baumwolle", locale="de", product_id=tee_id,
                categories=[tees_de], tags=["organic", "bestseller"], vendor="Acme", prices={"EUR": 2490, "USD": 2790},
                stock=12, options={"size": ["S", "M", "L"], "color": ["white"]}, published_days=10,
                description="Ein weiches Alltagsshirt aus Bio-Baumwolle."),
        product(a, "zip-hoodie", "Zip Hoodie", product_id=hoodie_id, categories=[hoodies], tags=["new"], vendor="Acme",
                prices={"EUR": 5990, "USD": 6490}, stock=3, options={"size": ["M", "L"], "color": ["grey"]},
                published_days=20, description="Warm fleece with a full zip."),
        product(a, "zip-hoodie", "Kapuzenpullover mit Reissverschluss", locale="de", product_id=hoodie_id,
                categories=[hoodies_de], tags=["new"], vendor="Acme", prices={"EUR": 5990, "USD": 6490}, stock=3,
                options={"size": ["M", "L"], "color": ["grey"]}, published_days=20,
                description="Warmer Fleece mit durchgehendem Reissverschluss."),
        product(a, "canvas-tote", "Canvas Tote Bag", tags=["organic"], vendor="Bagworks", prices={"EUR": 1990},
                stock=0, published_days=5, description="Big enough for a rolled-up hoodie and a notebook."),
        product(a, "ceramic-mug", "Ceramic Mug", categories=[mugs], tags=["bestseller"], vendor="Potter",
                prices={"EUR": 1290, "USD": 1490}, stock=40, options={"color": ["white", "blue"]}, published_days=15,
                description="Holds 350 ml of coffee."),
        product(a, "secret-prototype", "Secret Prototype Jacket", status="draft", prices={"EUR": 9990},
                categories=[hoodies], description="Unreleased jacket."),
    ]
    docs += [product(a, f"basic-sock-{i:02d}", f"Basic Sock {i:02d}", categories=[socks], tags=["basics"],
                     vendor="Sockery", prices={"EUR": 500 + 100 * (i % 3)}, stock=i % 4,
                     options={"color": ["black" if i % 2 else "white"]}, published_days=30 + i // 2)
             for i in range(24)]
    docs += [
        product(b, "organic-cotton-tee", "Organic Cotton T-Shirt", categories=[tees], tags=["organic"],
                vendor="Acme", prices={"EUR": 1990}, description="Tenant B's organic cotton shirt."),
        product(b, "b-draft", "Organic Cotton Draft", status="draft", prices={"EUR": 100}),
    ]
    alice = AuthorRef(id=new_id(), display_name="Alice Author")
    bob = AuthorRef(id=new_id(), display_name="Bob Writer")
    world.ids["alice"], world.ids["bob"] = str(alice.id), str(bob.id)
    docs += [
        content(a, "page", "about", "About us", body="We make organic cotton clothing in small batches."),
        content(a, "post", "caring-for-cotton", "Caring for cotton", author=alice, tags=["care"], category_slug="guides",
                excerpt="Wash cold, dry flat.", body="Cotton shirts last longer when washed cold.", published_days=31),
        content(a, "post", "summer-lookbook", "Summer lookbook", author=bob, tags=["summer"], category_slug="looks",
                body="Linen and cotton for hot days.", published_days=60),
        content(a, "topic", "shipping-questions", "Shipping questions", author=bob, body="How long does shipping take?",
                published_days=45),
        content(a, "post", "draft-announcement", "Draft announcement", author=alice, status="draft",
                body="A cotton collection nobody may see yet."),
        content(b, "page", "about", "About us", body="Tenant B sells cotton too."),
    ]
    catalog.publish(docs)
    for name, tenant in (("a", a), ("b", b)):
        world.keys[f"{name}_public"] = catalog.key(tenant, "search_public")
        world.keys[f"{name}_admin"] = catalog.key(tenant, "search_admin")
        world.keys[f"{name}_integration"] = catalog.key(tenant, "integration")
    world.keys["a_revoked"] = catalog.key(a, "search_public", revoked=True)
    world.keys["a_expired"] = catalog.key(a, "search_public", expired=True)
    return world


@pytest.fixture(scope="module")
def world(search_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(Catalog(search_db_url, tmp_path_factory.mktemp("index")))


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(world: World) -> Iterator[ClientFactory]:
    opened: list[TestClient] = []

    def make(backend: str = "tantivy", **overrides: Any) -> TestClient:
        settings = SearchSettings(database_url=SecretStr(world.catalog.database_url), index_dir=world.catalog.index_root,
                                  backend=backend, host_tenants={"shop-b.example": "shop-b"},
                                  **{"rate_limit_per_second": 1000.0, "rate_limit_burst": 1000, **overrides})
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(params=["tantivy", "postgres"])
def api(request: pytest.FixtureRequest, make_client: ClientFactory, world: World) -> TestClient:
    """A client of each backend, authenticated with tenant A's public key."""
    client = make_client(request.param)
    client.headers["Authorization"] = f"Bearer {world.keys['a_public']}"
    return client


def handles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["document"].get("handle") or hit["document"].get("slug") for hit in response.json()["hits"]]
