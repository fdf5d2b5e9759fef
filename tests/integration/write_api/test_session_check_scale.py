"""The per-request session check stays an index probe however many refresh tokens exist."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import sqlalchemy as sa

from rustok import demo
from write_api.adapters.identity import _USER_CONTEXT

TOKENS = 20_000


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def test_every_request_finds_its_session_by_index_among_many_refresh_tokens(engine: sa.Engine,
                                                                             database_url: str) -> None:
    demo.seed_demo(engine)
    with psycopg.connect(database_url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        row = conn.execute("SELECT id FROM users WHERE tenant_id = %s LIMIT 1", (demo.TENANT_ID,)).fetchone()
        assert row is not None
        user = row[0]
        # Logins and rotations leave a row each, revoked ones included, across every tenant.
        conn.execute("INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at, revoked_at)"
                     " SELECT gen_random_uuid(), %s, %s, gen_random_uuid(), md5(g::text) || g, now() + interval '1 day',"
                     " CASE WHEN g %% 2 = 0 THEN now() END FROM generate_series(1, %s) g",
                     (demo.TENANT_ID, user, TOKENS))
        family = conn.execute("SELECT family_id FROM refresh_tokens LIMIT 1").fetchone()
        assert family is not None
        conn.execute("ANALYZE refresh_tokens")
        params = {"tenant_id": demo.TENANT_ID, "user_id": user, "session_id": family[0]}
        explained = conn.execute("EXPLAIN (FORMAT JSON) " + _USER_CONTEXT, params).fetchone()
        assert explained is not None
        document = explained[0] if isinstance(explained[0], list) else json.loads(explained[0])
        scans = {(n["Node Type"], n.get("Index Name")) for n in _nodes(document[0]["Plan"])
                 if n.get("Relation Name") == "refresh_tokens"}
        assert scans and all(kind != "Seq Scan" for kind, _ in scans), scans
