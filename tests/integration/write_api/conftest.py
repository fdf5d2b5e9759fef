"""Fixtures for the write API: one app per test over a fresh migrated database, and a
world of two tenants (A with one of everything, B empty) built through the API itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from fastapi.testclient import TestClient
from pydantic import SecretStr

from write_api.app import create_app
from write_api.settings import WriteApiSettings

PLATFORM_TOKEN = "platform-token-for-tests-0123456789"
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(database_url: str) -> WriteApiSettings:
    return WriteApiSettings(
        environment="test", database_url=SecretStr(database_url), jwt_secret=SecretStr("j" * 40),
        platform_token=SecretStr(PLATFORM_TOKEN), argon2_time_cost=1, argon2_memory_kib=64, pool_size=4,
        max_body_bytes=256 * 1024, max_import_bytes=1024 * 1024,
    )


@pytest.fixture
def client(settings: WriteApiSettings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.services.engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PLATFORM = bearer(PLATFORM_TOKEN)


@dataclass
class Tenant:
    slug: str
    id: str
    admin: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    return body


def make_tenant(client: TestClient, slug: str, locales: list[str] | None = None) -> Tenant:
    body = {"slug": slug, "name": slug.title(), "default_locale": "en", "locales": locales or ["en", "de"],
            "admin": {"email": f"admin@{slug}.example", "display_name": "Admin", "password": PASSWORD}}
    created = ok(client.post("/v1/tenants", json=body, headers=PLATFORM), 201)
    tokens = ok(client.post("/v1/auth/login", json={"tenant": slug, "email": f"admin@{slug}.example", "password": PASSWORD}))
    return Tenant(slug, created["id"], bearer(tokens["access_token"]))


def product_body(handle: str, skus: list[str | None] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "handle": handle,
        "translations": [{"locale": "en", "title": f"{handle} title"}, {"locale": "de", "title": f"{handle} Titel"}],
        "variants": [
            {"sku": sku, "options": {"size": str(i)}, "translations": [{"locale": "en", "title": f"size {i}"}],
             "prices": [{"currency_code": "EUR", "amount": 1000 + i}, {"currency_code": "USD", "amount": 1100 + i}],
             "inventory": [{"location": "default", "stocked_quantity": 5}]}
            for i, sku in enumerate(skus if skus is not None else [f"{handle}-s", f"{handle}-m"])
        ],
        **extra,
    }


def node_body(kind: str, slug: str | None = None, **extra: Any) -> dict[str, Any]:
    translation: dict[str, Any] = {"locale": "en", "title": f"A {kind}", "body": f"Some *{kind}* text"}
    if slug is not None:
        translation["slug"] = slug
    return {"kind": kind, "translations": [translation], **extra}


def populate(client: TestClient, tenant: Tenant) -> None:
    """One of every kind of row in ``tenant``, ids kept in ``tenant.ids``."""
    h, ids = tenant.admin, tenant.ids
    ids["category_id"] = ok(client.post("/v1/categories", headers=h, json={
        "handle": "shirts", "translations": [{"locale": "en", "name": "Shirts"}]}), 201)["id"]
    ids["tag_id"] = ok(client.post("/v1/tags", headers=h, json={"slug": "sale", "name": "Sale"}), 201)["id"]
    ids["content_category_id"] = ok(client.post("/v1/content/categories", headers=h, json={
        "slug": "guides", "translations": [{"locale": "en", "name": "Guides"}]}), 201)["id"]
    ids["content_tag_id"] = ok(client.post("/v1/content/tags", headers=h, json={"slug": "tips", "name": "Tips"}), 201)["id"]
    ok(client.post("/v1/price-lists", headers=h, json={"slug": "wholesale", "name": "Wholesale"}), 201)
    product = ok(client.post("/v1/products", headers=h, json=product_body(
        "tee", category_ids=[ids["category_id"]], tags=["sale"], status="published")), 201)
    ids["product_id"], ids["variant_id"] = product["id"], product["variants"][0]["id"]
    ids["post_id"] = ok(client.post("/v1/blog/posts", headers=h, json={"translations": [
        {"locale": "en", "title": "Hello", "slug": "hello", "body": "hi"}]}), 201)["id"]
    ids["node_id"] = ok(client.post("/v1/nodes", headers=h, json=node_body("page", "about")), 201)["id"]
    ids["topic_id"] = ok(client.post("/v1/forum/topics", headers=h, json={"translations": [
        {"locale": "en", "title": "Question", "slug": "question"}]}), 201)["id"]
    ok(client.post(f"/v1/blog/posts/{ids['post_id']}/comments", headers=h, json={"translations": [
        {"locale": "en", "body": "Nice"}]}), 201)
    ids["schema_id"] = ok(client.post("/v1/flex/schemas", headers=h, json={
        "slug": "care", "name": "Care", "fields": [{"name": "wash", "type": "enum", "values": ["cold", "warm"]}]}), 201)["id"]
    ids["entry_id"] = ok(client.post("/v1/flex/entries", headers=h, json={
        "schema_id": ids["schema_id"], "entity_type": "product", "entity_id": ids["product_id"], "data": {"wash": "cold"}}), 201)["id"]
    ids["order_id"] = ok(client.post("/v1/orders", headers=h, json={
        "currency_code": "EUR", "lines": [{"variant_id": ids["variant_id"], "quantity": 2}]}), 201)["id"]
    ids["user_id"] = ok(client.post("/v1/users", headers=h, json={
        "email": f"viewer@{tenant.slug}.example", "display_name": "Viewer", "password": PASSWORD, "roles": ["viewer"]}), 201)["id"]
    key = ok(client.post("/v1/api-keys", headers=h, json={"name": "sync", "kind": "integration", "role": "viewer"}), 201)
    ids["key_id"] = key["id"]
    tenant.headers["viewer_key"] = bearer(key["key"])
    tokens = ok(client.post("/v1/auth/login", json={"tenant": tenant.slug, "email": f"viewer@{tenant.slug}.example",
                                                    "password": PASSWORD}))
    tenant.headers["viewer"] = bearer(tokens["access_token"])


@dataclass
class World:
    a: Tenant
    b: Tenant
    engine: sa.Engine


@pytest.fixture
def world(client: TestClient, engine: sa.Engine) -> World:
    a, b = make_tenant(client, "alpha"), make_tenant(client, "bravo")
    populate(client, a)
    return World(a, b, engine)


def count(engine: sa.Engine, table: str, where: str = "TRUE", **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one())
