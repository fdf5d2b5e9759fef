from __future__ import annotations

from fastapi.testclient import TestClient

from write_api.admin import issue_api_key, revoke_api_key
from tests.integration.write_api.conftest import World, bearer


def test_a_key_issued_from_the_cli_works_until_it_is_revoked(client: TestClient, world: World, database_url: str) -> None:
    shown = issue_api_key(database_url, "alpha", "integration", "cli import", role="editor")
    assert client.get("/v1/products", headers=bearer(shown.key)).status_code == 200
    revoke_api_key(database_url, "alpha", shown.id)
    assert client.get("/v1/products", headers=bearer(shown.key)).status_code == 401
