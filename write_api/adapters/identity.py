"""Resolve a bearer credential into a Principal with one query.

The query also reads the tenant's enabled modules and locales and, for users, whether
the session behind the access token is still alive, so logout and refresh-token reuse
revoke access tokens at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from psycopg.rows import dict_row

from contracts.keys import InvalidApiKey, key_matches, parse_api_key
from write_api.adapters.tables import driver_connection
from write_api.adapters.tokens import TokenCodec
from write_api.errors import Unauthenticated
from write_api.service.principal import Principal

_TENANT_PARTS = """
  t.status AS tenant_status, t.default_locale,
  ARRAY(SELECT l.locale FROM tenant_locales l WHERE l.tenant_id = t.id AND l.enabled) AS locales,
  ARRAY(SELECT m.module FROM tenant_modules m WHERE m.tenant_id = t.id AND m.enabled) AS modules
"""

_USER_CONTEXT = f"""
SELECT {_TENANT_PARTS},
  ARRAY(SELECT DISTINCT rp.permission FROM user_roles ur
        JOIN role_permissions rp ON rp.tenant_id = ur.tenant_id AND rp.role_id = ur.role_id
        WHERE ur.tenant_id = t.id AND ur.user_id = %(user_id)s) AS permissions,
  (SELECT u.status FROM users u WHERE u.tenant_id = t.id AND u.id = %(user_id)s) AS user_status,
  EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.tenant_id = t.id AND r.family_id = %(session_id)s
          AND r.revoked_at IS NULL) AS session_alive
FROM tenants t WHERE t.id = %(tenant_id)s
"""

_KEY_CONTEXT = f"""
SELECT {_TENANT_PARTS}, k.id AS key_id, k.tenant_id, k.kind, k.key_hash, k.revoked_at, k.expires_at, k.last_used_at,
  ARRAY(SELECT rp.permission FROM role_permissions rp
        WHERE rp.tenant_id = k.tenant_id AND rp.role_id = k.role_id) AS permissions
FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = %(prefix)s
"""


def resolve(conn: sa.Connection, codec: TokenCodec, credential: str) -> Principal:
    """A Principal for ``credential`` (JWT access token or integration key); Unauthenticated otherwise."""
    if credential.startswith("rtk_"):
        return _from_key(conn, credential)
    claims = codec.decode(credential, "access")
    row = _one(conn, _USER_CONTEXT, {"tenant_id": claims.tenant_id, "user_id": claims.user_id,
                                     "session_id": claims.session_id})
    if row is None or row["tenant_status"] != "active" or row["user_status"] != "active":
        raise Unauthenticated("the account is not active")
    if not row["session_alive"]:
        raise Unauthenticated("the session has ended; log in again")
    return _principal(row, claims.tenant_id, user_id=claims.user_id, key_id=None)


def _from_key(conn: sa.Connection, credential: str) -> Principal:
    try:
        presented = parse_api_key(credential)
    except InvalidApiKey:
        raise Unauthenticated("not a valid API key") from None
    row = _one(conn, _KEY_CONTEXT, {"prefix": presented.prefix})
    if row is None or not key_matches(presented, row["key_hash"]):
        raise Unauthenticated("not a valid API key")
    if row["kind"] != "integration":
        raise Unauthenticated("search keys are not accepted by the write API")
    expired = row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC)
    if row["revoked_at"] is not None or expired or row["tenant_status"] != "active":
        raise Unauthenticated("the API key has been revoked or has expired")
    _note_use(conn, row)
    return _principal(row, row["tenant_id"], user_id=None, key_id=row["key_id"])


_NOTE_USE = """
UPDATE api_keys SET last_used_at = now()
WHERE tenant_id = %(tenant_id)s AND id = %(key_id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
"""
_USE_RESOLUTION = timedelta(minutes=1)


def _note_use(conn: sa.Connection, row: Any) -> None:
    """Record when the key was last used, at most once a minute: a write per request would
    make every integration call pay for one (api_keys is not captured, so no change events)."""
    last = row["last_used_at"]
    if last is None or last < datetime.now(UTC) - _USE_RESOLUTION:
        driver_connection(conn).execute(_NOTE_USE, {"tenant_id": row["tenant_id"], "key_id": row["key_id"]})


def _one(conn: sa.Connection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """One row as a dict, run by psycopg directly: on every request, SQLAlchemy's statement
    handling would cost more CPU than the query itself."""
    with driver_connection(conn).cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query, params).fetchone()


def _principal(row: Any, tenant_id: Any, *, user_id: Any, key_id: Any) -> Principal:
    return Principal(
        tenant_id=tenant_id, user_id=user_id, api_key_id=key_id,
        permissions=frozenset(row["permissions"]), modules=frozenset(row["modules"]),
        default_locale=row["default_locale"], locales=frozenset(row["locales"]),
    )
