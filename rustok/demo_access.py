"""Credentials for trying the demo tenant locally: a password for its users and three
API keys (public search, admin search, integration).

Keys are shown once by design, so the local runtime keeps the demo's plaintext keys in
``<state_dir>/demo-access.json`` (mode 0600) to print them again on the next start.
This is for the local demo only; real tenants get their keys from the write API.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
import psycopg

from contracts.keys import ApiKeyKind, issue_api_key, parse_api_key
from rustok import demo
from write_api.adapters.passwords import Passwords

DEMO_PASSWORD = "rustok-demo-password"
_KEY_NAMES: dict[ApiKeyKind, str] = {"search_public": "demo storefront", "search_admin": "demo search admin",
                                      "integration": "demo integration"}


@dataclass(frozen=True)
class DemoAccess:
    tenant_slug: str
    admin_email: str
    editor_email: str
    password: str
    search_public_key: str
    search_admin_key: str
    integration_key: str


def ensure_demo_access(database_url: str, state_dir: Path) -> DemoAccess:
    """Idempotent: reuse the stored keys while they are valid, issue new ones otherwise."""
    path = state_dir / "demo-access.json"
    stored = _load(path)
    with psycopg.connect(database_url) as conn:
        _ensure_passwords(conn)
        keys = {kind: _valid_or_new(conn, kind, stored.get(kind)) for kind in _KEY_NAMES}
    access = DemoAccess(
        tenant_slug=demo.DEMO_SLUG, admin_email="admin@demo.example", editor_email="editor@demo.example",
        password=DEMO_PASSWORD, search_public_key=keys["search_public"], search_admin_key=keys["search_admin"],
        integration_key=keys["integration"],
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(keys, option=orjson.OPT_INDENT_2))
    os.chmod(path, 0o600)
    return access


def as_dict(access: DemoAccess) -> dict[str, str]:
    return asdict(access)


def _load(path: Path) -> dict[str, str]:
    try:
        data = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _ensure_passwords(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    hashed = Passwords(time_cost=2, memory_kib=19_456).hash(DEMO_PASSWORD)
    for user in ("admin", "editor"):
        conn.execute(
            "INSERT INTO user_credentials (user_id, tenant_id, password_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id) DO NOTHING",
            (demo.demo_id("user", user), demo.TENANT_ID, hashed),
        )


def _valid_or_new(conn: psycopg.Connection[tuple[object, ...]], kind: ApiKeyKind, key: str | None) -> str:
    if key is not None:
        presented = parse_api_key(key)
        row = conn.execute(
            "SELECT 1 FROM api_keys WHERE prefix = %s AND key_hash = %s AND tenant_id = %s AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > now())",
            (presented.prefix, presented.key_hash, demo.TENANT_ID),
        ).fetchone()
        if row is not None:
            return key
    issued = issue_api_key(kind)
    role = demo.demo_id("role", "editor") if kind == "integration" else None
    conn.execute(
        "INSERT INTO api_keys (id, tenant_id, name, kind, prefix, key_hash, role_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (demo.demo_id("api-key", issued.prefix), demo.TENANT_ID, _KEY_NAMES[kind], kind, issued.prefix,
         issued.key_hash, role),
    )
    return issued.key
