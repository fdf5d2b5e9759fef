"""Table-driven checks over every route: happy path, permissions, disabled modules, tenant isolation."""

from __future__ import annotations

import re
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient

from contracts.ids import new_id
from tests.integration.write_api.conftest import PLATFORM, World, ok
from tests.integration.write_api.routes_table import (
    CREDENTIAL_ROUTES, LATE_DELETES, PLATFORM_ROUTES, ROUTES, SCHEMA_DELETE, TENANT_ROUTES, Route,
)
from write_api.routes import auth, commerce, content, flex, imports


def call(client: TestClient, route: Route, ids: dict[str, str], headers: dict[str, str]) -> Any:
    body = route.body(ids) if route.body else None
    if route.path.startswith("/v1/import/"):
        return client.request(route.method, route.url(ids), content=orjson.dumps(body) + b"\n",
                              headers={**headers, "Content-Type": "application/x-ndjson"})
    return client.request(route.method, route.url(ids), json=body, headers=headers)


def test_every_route_of_the_app_is_in_the_route_table(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    in_app = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    in_table = {r.key for r in TENANT_ROUTES} | set(PLATFORM_ROUTES) | set(CREDENTIAL_ROUTES)
    assert in_app == in_table


def test_the_route_table_names_the_permission_each_route_really_checks() -> None:
    declared: dict[str, tuple[str | None, str | None]] = {}
    for module in (auth, content, commerce, flex, imports):
        for route in module.router.routes:
            for dependency in route.dependant.dependencies:
                call_ = dependency.call
                if hasattr(call_, "permission"):
                    for method in route.methods:
                        declared[f"{method} {route.path}"] = (call_.permission, call_.module)
    for route in TENANT_ROUTES:
        assert declared[route.key] == (route.permission, route.module), route.key


def test_every_route_succeeds_for_an_admin_of_the_tenant(client: TestClient, world: World) -> None:
    failures = []
    ids = world.a.ids
    for route in ROUTES:
        response = call(client, route, ids, world.a.admin)
        if response.status_code != route.status:
            failures.append((route.key, response.status_code, response.text[:300]))
        elif route.path.startswith("/v1/import/"):
            assert response.json()["failed"] == 0, response.text
    for entry in client.get("/v1/flex/entries", headers=world.a.admin).json()["items"]:
        ok(client.delete(f"/v1/flex/entries/{entry['id']}", headers=world.a.admin))
    for route in [*LATE_DELETES, SCHEMA_DELETE]:
        response = call(client, route, ids, world.a.admin)
        if response.status_code != route.status:
            failures.append((route.key, response.status_code, response.text[:300]))
    assert failures == []


def _nobody_key(client: TestClient, world: World) -> dict[str, str]:
    """An integration key whose role holds no permission at all."""
    with world.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO roles (id, tenant_id, slug, name) VALUES (gen_random_uuid(), :t, 'nobody', 'Nobody')"),
                     {"t": world.a.id})
    key = ok(client.post("/v1/api-keys", headers=world.a.admin, json={"name": "n", "kind": "integration", "role": "nobody"}), 201)
    return {"Authorization": f"Bearer {key['key']}"}


def test_a_credential_without_the_permission_gets_403_on_every_route(client: TestClient, world: World) -> None:
    nobody = _nobody_key(client, world)
    wrong = [(r.key, s) for r in TENANT_ROUTES if r.permission
             and (s := call(client, r, world.a.ids, nobody).status_code) != 403]
    assert wrong == []


def test_viewers_and_viewer_keys_cannot_write_anywhere(client: TestClient, world: World) -> None:
    outbox_before = _count(world, "outbox")
    for who in ("viewer", "viewer_key"):
        headers = world.a.headers[who]
        wrong = [(r.key, s) for r in TENANT_ROUTES if r.permission and r.method != "GET"
                 and (s := call(client, r, world.a.ids, headers).status_code) != 403]
        assert wrong == [], who
        reads = [(r.key, s) for r in TENANT_ROUTES if r.method == "GET" and r.permission
                 and not r.permission.startswith("auth.") and (s := call(client, r, world.a.ids, headers).status_code) != 200]
        assert reads == [], who
    assert _count(world, "outbox") == outbox_before


def test_the_routes_of_a_disabled_module_answer_404(client: TestClient, world: World) -> None:
    for module in ("content", "blog", "forum", "pages", "commerce", "flex"):
        ok(client.put(f"/v1/tenants/{world.a.id}/modules/{module}", headers=PLATFORM, json={"enabled": False}))
        wrong = [(r.key, s) for r in TENANT_ROUTES if r.module == module
                 and (s := call(client, r, world.a.ids, world.a.admin).status_code) != 404]
        assert wrong == [], module
        ok(client.put(f"/v1/tenants/{world.a.id}/modules/{module}", headers=PLATFORM, json={"enabled": True}))
    assert ok(client.get(f"/v1/products/{world.a.ids['product_id']}", headers=world.a.admin))["id"]


def _count(world: World, table: str) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _snapshot(world: World) -> dict[str, Any]:
    tables = ["commerce_products", "commerce_variants", "commerce_prices", "nodes", "node_translations",
              "flex_schemas", "flex_entries", "commerce_orders", "api_keys", "users", "commerce_categories", "commerce_tags",
              "content_categories", "content_category_translations", "content_tags", "tenant_locales", "user_roles"]
    with world.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM {t} x "
                                        "WHERE tenant_id = :t"), {"t": world.a.id}).scalar_one() for t in tables}


def _masked(response: Any, ids: set[str]) -> tuple[int, str]:
    text = response.text
    for value in ids:
        text = text.replace(value, "<id>")
    return response.status_code, text


def test_another_tenant_can_neither_read_change_nor_detect_a_tenants_rows(client: TestClient, world: World) -> None:
    before = _snapshot(world)
    a_ids = set(world.a.ids.values())
    unknown = {key: str(new_id()) for key in world.a.ids}
    leaks = []
    for route in TENANT_ROUTES:
        response = call(client, route, world.a.ids, world.b.admin)
        if re.search(r"\{\w+\}", route.path):
            # A's ids must look exactly like ids that exist nowhere: 404, same body.
            absent = call(client, route, unknown, world.b.admin)
            if response.status_code != 404 or _masked(response, a_ids) != _masked(absent, set(unknown.values())):
                leaks.append((route.key, response.status_code, response.text[:200]))
        elif route.method == "GET":
            if response.status_code != 200 or any(i in response.text for i in a_ids):
                leaks.append((route.key, response.status_code, response.text[:200]))
        elif route.key in ("POST /v1/orders", "POST /v1/flex/entries"):
            # Bodies naming A's variant or schema: refused as unknown, like any id that does not exist.
            if response.status_code != 422:
                leaks.append((route.key, response.status_code, response.text[:200]))
    assert leaks == []
    assert _snapshot(world) == before


def test_a_missing_or_bad_credential_gets_401_as_a_problem(client: TestClient, world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer rtk_int_AAAAAAAAAAAA_" + "x" * 32}):
        response = client.get("/v1/products", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthenticated"
    assert client.post("/v1/tenants", json={}, headers=world.a.admin).status_code == 401
