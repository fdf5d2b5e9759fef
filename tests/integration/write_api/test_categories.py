"""Category trees (commerce and content): moves, cycles, translations, deletes, tags."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.write_api.conftest import World, count, ok

TREES = [("/v1/categories", "handle"), ("/v1/content/categories", "slug")]


def _create(client: TestClient, world: World, base: str, key: str, name: str, parent: str | None = None) -> str:
    body = {key: name, "parent_id": parent, "translations": [{"locale": "en", "name": name.title()}]}
    return str(ok(client.post(base, headers=world.a.admin, json=body), 201)["id"])


@pytest.mark.parametrize(("base", "key"), TREES)
def test_a_category_moves_under_another_but_never_under_its_own_descendant(client: TestClient, world: World,
                                                                           base: str, key: str) -> None:
    top = _create(client, world, base, key, "top")
    child = _create(client, world, base, key, "child", top)
    grandchild = _create(client, world, base, key, "grandchild", child)
    cycle = client.patch(f"{base}/{top}", headers=world.a.admin, json={"parent_id": grandchild})
    assert cycle.status_code == 422
    assert cycle.json()["errors"] == [{"path": ["body", "parent_id"], "message": "would make a cycle"}]
    assert ok(client.get(f"{base}/{top}", headers=world.a.admin))["parent_id"] is None
    moved = ok(client.patch(f"{base}/{grandchild}", headers=world.a.admin, json={"parent_id": top}))
    assert moved["parent_id"] == top
    unknown = client.patch(f"{base}/{child}", headers=world.a.admin, json={"parent_id": world.a.ids["product_id"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == ["body", "parent_id"]


@pytest.mark.parametrize(("base", "key"), TREES)
def test_renaming_replaces_the_translations_and_a_stale_etag_changes_nothing(client: TestClient, world: World,
                                                                             base: str, key: str) -> None:
    cid = _create(client, world, base, key, "outdoor")
    etag = client.get(f"{base}/{cid}", headers=world.a.admin).headers["ETag"]
    renamed = client.patch(f"{base}/{cid}", headers={**world.a.admin, "If-Match": etag}, json={"translations": [
        {"locale": "en", "name": "Outdoors"}, {"locale": "de", "name": "Draußen"}]})
    assert [t["name"] for t in ok(renamed)["translations"]] == ["Draußen", "Outdoors"]
    stale = client.patch(f"{base}/{cid}", headers={**world.a.admin, "If-Match": etag}, json={"position": 9})
    assert stale.status_code == 412
    assert ok(client.get(f"{base}/{cid}", headers=world.a.admin))["position"] == 0
    locale = client.patch(f"{base}/{cid}", headers=world.a.admin, json={"translations": [{"locale": "fr", "name": "Dehors"}]})
    assert locale.status_code == 422 and locale.json()["errors"][0]["path"] == ["body", "translations", 0, "locale"]


@pytest.mark.parametrize(("base", "key"), TREES)
def test_a_category_with_subcategories_cannot_be_deleted_until_they_move(client: TestClient, world: World,
                                                                         base: str, key: str) -> None:
    parent = _create(client, world, base, key, "parent")
    child = _create(client, world, base, key, "kid", parent)
    refused = client.delete(f"{base}/{parent}", headers=world.a.admin)
    assert refused.status_code == 409
    assert refused.json()["errors"] == [{"path": ["path", "id"],
                                         "message": "subcategories still refer to it; move or delete them first"}]
    ok(client.patch(f"{base}/{child}", headers=world.a.admin, json={"parent_id": None}))
    assert ok(client.delete(f"{base}/{parent}", headers=world.a.admin))["deleted"] is True
    assert client.get(f"{base}/{parent}", headers=world.a.admin).status_code == 404


def test_deleting_a_content_category_leaves_its_posts_uncategorised(client: TestClient, world: World) -> None:
    cid = _create(client, world, "/v1/content/categories", "slug", "news")
    post = ok(client.post("/v1/blog/posts", headers=world.a.admin, json={"category_id": cid, "translations": [
        {"locale": "en", "title": "Launch", "slug": "launch", "body": "We launched."}]}), 201)
    events = count(world.engine, "outbox", "type = 'ContentCategoryDeleted'")
    ok(client.delete(f"/v1/content/categories/{cid}", headers=world.a.admin))
    assert ok(client.get(f"/v1/nodes/{post['id']}", headers=world.a.admin))["category_id"] is None
    assert count(world.engine, "outbox", "type = 'ContentCategoryDeleted'") == events + 1


def test_deleting_a_content_tag_removes_it_from_its_posts(client: TestClient, world: World) -> None:
    post = ok(client.post("/v1/blog/posts", headers=world.a.admin, json={"tags": ["howto"], "translations": [
        {"locale": "en", "title": "Guide", "slug": "guide", "body": "Steps."}]}), 201)
    tag = next(t for t in ok(client.get("/v1/content/tags", headers=world.a.admin))["items"] if t["slug"] == "howto")
    ok(client.delete(f"/v1/content/tags/{tag['id']}", headers=world.a.admin))
    assert ok(client.get(f"/v1/nodes/{post['id']}", headers=world.a.admin))["tags"] == []
    assert client.delete(f"/v1/content/tags/{tag['id']}", headers=world.a.admin).status_code == 404
