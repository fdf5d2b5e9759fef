"""Managing users (roles, status) and a tenant's locales."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.write_api.conftest import PASSWORD, PLATFORM, World, bearer, count, ok, product_body


def _login(client: TestClient, world: World, email: str) -> dict[str, str]:
    tokens = ok(client.post("/v1/auth/login", json={"tenant": world.a.slug, "email": email, "password": PASSWORD}))
    return {"access": tokens["access_token"], "refresh": tokens["refresh_token"]}


def test_disabling_a_user_ends_their_sessions_at_once_and_enabling_lets_them_back(client: TestClient, world: World) -> None:
    email = f"viewer@{world.a.slug}.example"
    tokens = _login(client, world, email)
    url = f"/v1/users/{world.a.ids['user_id']}"
    assert ok(client.patch(url, headers=world.a.admin, json={"status": "disabled"}))["status"] == "disabled"
    assert client.get("/v1/products", headers=bearer(tokens["access"])).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh"]}).status_code == 401
    assert client.post("/v1/auth/login", json={"tenant": world.a.slug, "email": email, "password": PASSWORD}).status_code == 401
    ok(client.patch(url, headers=world.a.admin, json={"status": "active"}))
    assert client.get("/v1/products", headers=bearer(_login(client, world, email)["access"])).status_code == 200


def test_replacing_roles_changes_what_the_user_may_do(client: TestClient, world: World) -> None:
    email = f"viewer@{world.a.slug}.example"
    url = f"/v1/users/{world.a.ids['user_id']}"
    before = bearer(_login(client, world, email)["access"])
    assert client.post("/v1/products", headers=before, json=product_body("mug", ["MUG-1"])).status_code == 403
    assert ok(client.patch(url, headers=world.a.admin, json={"roles": ["editor"]}))["roles"] == ["editor"]
    assert client.post("/v1/products", headers=before, json=product_body("mug", ["MUG-1"])).status_code == 201
    unknown = client.patch(url, headers=world.a.admin, json={"roles": ["editor", "owner"]})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"path": ["body", "roles", 1], "message": "no role 'owner'"}]
    assert ok(client.get(url, headers=world.a.admin))["roles"] == ["editor"]


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(client: TestClient, world: World) -> None:
    me = ok(client.get("/v1/auth/me", headers=world.a.admin))["user_id"]
    for body, field in (({"status": "disabled"}, "status"), ({"roles": ["editor"]}, "roles")):
        refused = client.patch(f"/v1/users/{me}", headers=world.a.admin, json=body)
        assert refused.status_code == 409
        assert refused.json()["errors"] == [{"path": ["body", field], "message": "keep at least one active admin"}]
    ok(client.patch(f"/v1/users/{world.a.ids['user_id']}", headers=world.a.admin, json={"roles": ["admin"]}))
    assert ok(client.patch(f"/v1/users/{me}", headers=world.a.admin, json={"roles": ["editor"]}))["roles"] == ["editor"]


def test_a_stale_if_match_on_a_user_gets_412(client: TestClient, world: World) -> None:
    url = f"/v1/users/{world.a.ids['user_id']}"
    etag = client.get(url, headers=world.a.admin).headers["ETag"]
    ok(client.patch(url, headers={**world.a.admin, "If-Match": etag}, json={"display_name": "First"}))
    assert client.patch(url, headers={**world.a.admin, "If-Match": etag}, json={"display_name": "Second"}).status_code == 412
    assert ok(client.get(url, headers=world.a.admin))["display_name"] == "First"


def test_a_tenant_enables_and_disables_locales_and_translations_follow(client: TestClient, world: World) -> None:
    url = f"/v1/tenants/{world.a.id}"
    events = count(world.engine, "outbox", "type = 'TenantUpdated'")
    changed = ok(client.patch(url, headers=PLATFORM, json={"locales": ["en", "fr"], "name": "Alpha Shop"}))
    assert (changed["locales"], changed["default_locale"], changed["name"]) == (["en", "fr"], "en", "Alpha Shop")
    assert count(world.engine, "outbox", "type = 'TenantUpdated'") == events + 1
    # The admin's token carries no locale list: the next request already sees the change.
    french = {**product_body("beret", ["BERET-1"]), "translations": [{"locale": "fr", "title": "Béret"}]}
    assert client.post("/v1/products", headers=world.a.admin, json=french).status_code == 201
    german = client.post("/v1/products", headers=world.a.admin, json=product_body("hut", ["HUT-1"]))
    assert german.status_code == 422 and german.json()["errors"][0]["path"] == ["body", "translations", 1, "locale"]
    again = ok(client.patch(url, headers=PLATFORM, json={"locales": ["de", "en"], "default_locale": "de"}))
    assert (again["locales"], again["default_locale"]) == (["de", "en"], "de")


def test_the_default_locale_must_stay_enabled(client: TestClient, world: World) -> None:
    url = f"/v1/tenants/{world.a.id}"
    for body, path in (({"locales": ["de"]}, ["body", "locales"]), ({"default_locale": "fr"}, ["body", "default_locale"])):
        refused = client.patch(url, headers=PLATFORM, json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == path
    assert ok(client.get(url, headers=PLATFORM))["locales"] == ["en", "de"]


def test_only_the_platform_token_changes_a_tenant(client: TestClient, world: World) -> None:
    for headers in (world.a.admin, world.b.admin, {}):
        assert client.patch(f"/v1/tenants/{world.a.id}", headers=headers, json={"name": "Mine"}).status_code == 401
    assert ok(client.get(f"/v1/tenants/{world.a.id}", headers=PLATFORM))["name"] == "Alpha"
