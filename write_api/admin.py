"""Entry points for the ``rustok`` CLI: issue and revoke API keys without HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from contracts.ids import parse_id
from contracts.keys import ApiKeyKind
from write_api.adapters.auth_repo import find_tenant_id
from write_api.adapters.db import psycopg_url
from write_api.adapters.uow import SqlUnitOfWork
from write_api.errors import NotFound
from write_api.service import auth


@dataclass(frozen=True)
class ShownOnce:
    id: UUID
    key: str


def _engine(database: str | sa.Engine) -> tuple[sa.Engine, bool]:
    if isinstance(database, sa.Engine):
        return database, False
    return sa.create_engine(psycopg_url(database), poolclass=sa.pool.NullPool), True


def _tenant(engine: sa.Engine, slug: str) -> UUID:
    with engine.connect() as conn:
        tenant_id = find_tenant_id(conn, slug)
    if tenant_id is None:
        raise NotFound(f"no tenant with slug {slug!r}")
    return tenant_id


def issue_api_key(database: str | sa.Engine, tenant_slug: str, kind: ApiKeyKind, name: str,
                  role: str | None = None, expires_at: datetime | None = None) -> ShownOnce:
    """Issue a key (``role`` required for ``integration``); the whole key is returned once."""
    engine, owned = _engine(database)
    try:
        uow = SqlUnitOfWork(engine, _tenant(engine, tenant_slug), f"cli-{uuid.uuid4().hex[:12]}")
        written = auth.issue_key(auth.IssueApiKey(name, kind, role, expires_at), uow)
        return ShownOnce(written.body["id"], written.body["key"])
    finally:
        if owned:
            engine.dispose()


def revoke_api_key(database: str | sa.Engine, tenant_slug: str, key_id: str | UUID) -> None:
    engine, owned = _engine(database)
    try:
        uow = SqlUnitOfWork(engine, _tenant(engine, tenant_slug), f"cli-{uuid.uuid4().hex[:12]}")
        auth.revoke_key(auth.RevokeApiKey(parse_id(key_id)), uow)
    finally:
        if owned:
            engine.dispose()
