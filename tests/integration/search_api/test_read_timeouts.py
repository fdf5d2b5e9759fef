"""A read query that runs too long (here: blocked behind a lock a migration could hold) is
cancelled by PostgreSQL at ``RUSTOK_SEARCH_DB_STATEMENT_TIMEOUT_MS`` and answered 503 as a
problem document; the API goes on serving once the read tables are free again."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from search_api.db import Database
from search_api.errors import BackendUnavailable
from tests.integration.search_api.conftest import ClientFactory, World

P = "/v1/products/search"


def test_a_search_blocked_past_the_statement_timeout_is_answered_503_and_the_next_one_is_served(
        make_client: ClientFactory, world: World) -> None:
    client = make_client("postgres", db_statement_timeout_ms=300, db_pool_size=1)
    headers = {"Authorization": f"Bearer {world.keys['a_public']}"}
    assert client.get(P, params={"q": "organic cotton"}, headers=headers).status_code == 200
    with psycopg.connect(world.catalog.database_url) as holder:
        holder.execute("LOCK TABLE index_products IN ACCESS EXCLUSIVE MODE")
        release = threading.Timer(5.0, holder.rollback)  # without a timeout the search waits for this
        release.start()
        started = time.monotonic()
        blocked = client.get(P, params={"q": "organic cotton"}, headers=headers)
        waited = time.monotonic() - started
        release.cancel()
        holder.rollback()
    assert blocked.status_code == 503, blocked.text
    assert blocked.headers["content-type"].startswith("application/problem+json")
    assert blocked.json()["code"] == "backend_unavailable" and "300 ms" in blocked.json()["detail"]
    assert waited < 5
    served = client.get(P, params={"q": "organic cotton"}, headers=headers)  # the one pooled connection goes on
    assert served.status_code == 200 and served.json()["hits"]


def test_the_statement_timeout_is_per_statement_and_zero_means_none(world: World) -> None:
    limited = Database(world.catalog.database_url, 1, statement_timeout_ms=100)
    with pytest.raises(BackendUnavailable, match="longer than 100 ms"):
        limited.fetch_one("SELECT pg_sleep(2)")
    assert limited.fetch_one("SHOW statement_timeout") == ("100ms",)
    limited.close()
    unlimited = Database(world.catalog.database_url, 1, statement_timeout_ms=0)
    assert unlimited.fetch_one("SELECT pg_sleep(0.3), current_setting('statement_timeout')") == ("", "0")
    unlimited.close()
