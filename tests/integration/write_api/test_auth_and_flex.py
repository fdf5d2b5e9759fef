"""Auth sessions and keys; Flex schema changes that would strand entries."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.write_api.conftest import PASSWORD, World, bearer, ok


def _login(client: TestClient, world: World) -> dict[str, str]:
    return ok(client.post("/v1/auth/login", json={"tenant": "alpha", "email": "admin@alpha.example", "password": PASSWORD}))


def test_a_refresh_token_works_once_and_its_reuse_ends_the_session(client: TestClient, world: World) -> None:
    tokens = _login(client, world)
    rotated = ok(client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    assert ok(client.get("/v1/auth/me", headers=bearer(rotated["access_token"])))["user_id"]
    reused = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401
    assert client.get("/v1/auth/me", headers=bearer(rotated["access_token"])).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401


def test_logout_revokes_the_access_token_at_once(client: TestClient, world: World) -> None:
    tokens = _login(client, world)
    assert client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.get("/v1/products", headers=bearer(tokens["access_token"])).status_code == 401


def test_a_wrong_password_or_tenant_is_a_plain_401(client: TestClient, world: World) -> None:
    for body in ({"tenant": "alpha", "email": "admin@alpha.example", "password": "wrong password"},
                 {"tenant": "nowhere", "email": "admin@alpha.example", "password": PASSWORD},
                 {"tenant": "bravo", "email": "admin@alpha.example", "password": PASSWORD}):
        response = client.post("/v1/auth/login", json=body)
        assert response.status_code == 401 and response.json()["detail"] == "wrong tenant, email or password"


def test_api_keys_are_shown_once_and_stop_working_when_revoked(client: TestClient, world: World) -> None:
    key = ok(client.post("/v1/api-keys", headers=world.a.admin, json={"name": "erp", "kind": "integration", "role": "editor"}), 201)
    headers = bearer(key["key"])
    assert ok(client.post("/v1/tags", headers=headers, json={"slug": "from-erp", "name": "ERP"}), 201)
    listed = ok(client.get("/v1/api-keys", headers=world.a.admin))["items"]
    assert all(item["key"] is None for item in listed) and key["key"] not in str(listed)
    ok(client.delete(f"/v1/api-keys/{key['id']}", headers=world.a.admin))
    assert client.get("/v1/tags", headers=headers).status_code == 401


def test_the_key_list_shows_when_each_key_was_last_used(client: TestClient, world: World) -> None:
    key = ok(client.post("/v1/api-keys", headers=world.a.admin, json={"name": "pim", "kind": "integration", "role": "viewer"}), 201)
    assert key["last_used_at"] is None

    def listed() -> dict[str, Any]:
        return next(k for k in ok(client.get("/v1/api-keys", headers=world.a.admin))["items"] if k["id"] == key["id"])

    assert listed()["last_used_at"] is None
    ok(client.get("/v1/products", headers=bearer(key["key"])))
    first = listed()["last_used_at"]
    assert first is not None
    ok(client.get("/v1/products", headers=bearer(key["key"])))
    assert listed()["last_used_at"] == first  # recorded at most once a minute


def test_search_keys_are_never_accepted_for_writes(client: TestClient, world: World) -> None:
    key = ok(client.post("/v1/api-keys", headers=world.a.admin, json={"name": "shop", "kind": "search_public"}), 201)
    assert client.post("/v1/tags", headers=bearer(key["key"]), json={"slug": "x", "name": "X"}).status_code == 401


def test_a_schema_change_that_would_strand_entries_is_refused_unless_allowed(client: TestClient, world: World) -> None:
    url = f"/v1/flex/schemas/{world.a.ids['schema_id']}"
    narrower = {"name": "Care", "fields": [{"name": "wash", "type": "enum", "values": ["warm"]}]}
    refused = client.put(url, headers=world.a.admin, json=narrower)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["path"] == ["entries", world.a.ids["entry_id"], "data", "wash"]
    changed = ok(client.put(url, headers=world.a.admin, json={**narrower, "allow_invalid_entries": True}))
    assert changed["schema_version"] == 2
    assert [e["id"] for e in changed["invalid_entries"]] == [world.a.ids["entry_id"]]


def test_flex_entries_are_validated_against_their_schema(client: TestClient, world: World) -> None:
    response = client.post("/v1/flex/entries", headers=world.a.admin, json={
        "schema_id": world.a.ids["schema_id"], "data": {"wash": "boil", "colour": "red"}})
    assert response.status_code == 422
    assert {tuple(e["path"]) for e in response.json()["errors"]} == {("body", "data", "wash"), ("body", "data", "colour")}
    too_many = [{"name": f"f{i}", "type": "string"} for i in range(51)]
    schema = client.post("/v1/flex/schemas", headers=world.a.admin, json={"slug": "big", "name": "Big", "fields": too_many})
    assert schema.status_code == 422
