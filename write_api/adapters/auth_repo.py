"""Tenancy and auth repository: the tenant row, locales, modules, users, roles, tokens, keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contracts.ids import new_id
from write_api.adapters.tables import Row, TenantTables, table_of
from write_api.models import auth as m
from write_api.models import tenancy

TENANTS = table_of(tenancy.Tenant)
LOCALES = table_of(tenancy.TenantLocale)
MODULES = table_of(tenancy.TenantModule)
USERS = table_of(m.User)
CREDENTIALS = table_of(m.UserCredential)
ROLES = table_of(m.Role)
ROLE_PERMISSIONS = table_of(m.RolePermission)
USER_ROLES = table_of(m.UserRole)
REFRESH = table_of(m.RefreshToken)
KEYS = table_of(m.ApiKey)


def find_tenant_id(conn: sa.Connection, slug: str) -> UUID | None:
    """The one lookup that is not tenant-scoped: turning a login's tenant slug into its id."""
    return conn.execute(sa.select(TENANTS.c.id).where(TENANTS.c.slug == slug)).scalar_one_or_none()


class AuthRepository:
    def __init__(self, tables: TenantTables) -> None:
        self.t = tables

    # The tenants table is keyed by id itself; scope it to this unit of work's tenant.
    def create_tenant(self, row: Row) -> None:
        self.t.execute(sa.insert(TENANTS).values({**row, "id": self.t.tenant_id}))

    def tenant(self) -> dict[str, Any] | None:
        row = self.t.execute(sa.select(TENANTS).where(TENANTS.c.id == self.t.tenant_id)).mappings().one_or_none()
        if row is None:
            return None
        locales = self.t.select(LOCALES, order_by=[LOCALES.c.position])
        modules = self.t.select(MODULES, order_by=[MODULES.c.module])
        return {**row, "locales": [r["locale"] for r in locales if r["enabled"]],
                "modules": {r["module"]: r["enabled"] for r in modules}}

    def add_locales(self, locales: Sequence[str]) -> None:
        self.t.insert(LOCALES, [{"locale": loc, "position": i} for i, loc in enumerate(locales)])

    def update_tenant(self, values: Row) -> None:
        if values:
            self.t.execute(sa.update(TENANTS).where(TENANTS.c.id == self.t.tenant_id)
                           .values({**values, "updated_at": sa.func.now()}))

    def set_locales(self, enabled: Sequence[str]) -> None:
        """Enable ``enabled`` in this order; disable every other locale the tenant had (rows stay)."""
        known = {r["locale"] for r in self.t.select(LOCALES)}
        self.t.update(LOCALES, {"enabled": False}, LOCALES.c.locale.not_in(list(enabled)), LOCALES.c.enabled)
        for position, locale in enumerate(enabled):
            if locale in known:
                self.t.update(LOCALES, {"enabled": True, "position": position}, LOCALES.c.locale == locale)
        self.t.insert(LOCALES, [{"locale": loc, "position": enabled.index(loc)} for loc in enabled if loc not in known])

    def set_module(self, module: str, enabled: bool) -> None:
        statement = pg_insert(MODULES).values(id=new_id(), tenant_id=self.t.tenant_id, module=module, enabled=enabled)
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "module"], set_={"enabled": enabled, "updated_at": sa.func.now()})
        self.t.execute(statement)

    def seed_roles(self, roles: Mapping[str, Sequence[str]]) -> dict[str, UUID]:
        ids = {slug: new_id() for slug in roles}
        self.t.insert(ROLES, [{"id": ids[s], "slug": s, "name": s.title(), "is_system": True} for s in roles])
        self.t.insert(ROLE_PERMISSIONS, [{"role_id": ids[s], "permission": p} for s, perms in roles.items() for p in perms])
        return ids

    def role_ids(self, slugs: Iterable[str]) -> dict[str, UUID]:
        return {r["slug"]: r["id"] for r in self.t.select(ROLES, ROLES.c.slug.in_(list(slugs)))}

    def roles(self) -> list[dict[str, Any]]:
        roles = self.t.select(ROLES, order_by=[ROLES.c.slug], versioned=True)
        perms: dict[UUID, list[str]] = defaultdict(list)
        for r in self.t.select(ROLE_PERMISSIONS, order_by=[ROLE_PERMISSIONS.c.permission]):
            perms[r["role_id"]].append(r["permission"])
        return [{**r, "permissions": perms.get(r["id"], [])} for r in roles]

    def add_user(self, row: Row, password_hash: str, role_ids: Iterable[UUID]) -> Row:
        user = self.t.insert_returning(USERS, row)
        self.t.insert(CREDENTIALS, [{"user_id": user["id"], "password_hash": password_hash}])
        self.t.insert(USER_ROLES, [{"user_id": user["id"], "role_id": r} for r in role_ids])
        return user

    def user_login(self, email: str) -> tuple[Row, str] | None:
        statement = (sa.select(USERS.c.id, USERS.c.status, CREDENTIALS.c.password_hash)
                     .join(CREDENTIALS, CREDENTIALS.c.user_id == USERS.c.id)
                     .where(USERS.c.tenant_id == self.t.tenant_id, CREDENTIALS.c.tenant_id == self.t.tenant_id,
                            sa.func.lower(USERS.c.email) == email.lower()))
        row = self.t.execute(statement).mappings().one_or_none()
        return None if row is None else (dict(row), row["password_hash"])

    def users(self, ids: Sequence[UUID] | None, after: UUID | None, limit: int) -> list[dict[str, Any]]:
        where: list[sa.ColumnElement[bool]] = []
        if ids is not None:
            where.append(USERS.c.id.in_(list(ids)))
        if after is not None:
            where.append(USERS.c.id > after)
        users = self.t.select(USERS, *where, limit=limit, versioned=True)
        uids = [u["id"] for u in users]
        roles: dict[UUID, list[str]] = defaultdict(list)
        if uids:
            statement = (sa.select(USER_ROLES.c.user_id, ROLES.c.slug)
                         .join(ROLES, sa.and_(ROLES.c.id == USER_ROLES.c.role_id, ROLES.c.tenant_id == USER_ROLES.c.tenant_id))
                         .where(USER_ROLES.c.tenant_id == self.t.tenant_id, USER_ROLES.c.user_id.in_(uids)))
            for r in self.t.execute(statement).mappings():
                roles[r["user_id"]].append(r["slug"])
        return [{**u, "roles": sorted(roles.get(u["id"], []))} for u in users]

    def touch_user(self, user_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(USERS, user_id, "user", if_match, values)

    def replace_user_roles(self, user_id: UUID, role_ids: Iterable[UUID]) -> None:
        self.t.delete(USER_ROLES, USER_ROLES.c.user_id == user_id)
        self.t.insert(USER_ROLES, [{"user_id": user_id, "role_id": r} for r in role_ids])

    def active_admins(self) -> set[UUID]:
        statement = (sa.select(USERS.c.id)
                     .join(USER_ROLES, sa.and_(USER_ROLES.c.user_id == USERS.c.id, USER_ROLES.c.tenant_id == USERS.c.tenant_id))
                     .join(ROLES, sa.and_(ROLES.c.id == USER_ROLES.c.role_id, ROLES.c.tenant_id == USER_ROLES.c.tenant_id))
                     .where(USERS.c.tenant_id == self.t.tenant_id, USERS.c.status == "active", ROLES.c.slug == "admin"))
        return set(self.t.execute(statement).scalars())

    def end_sessions(self, user_id: UUID) -> None:
        self.t.update(REFRESH, {"revoked_at": datetime.now(UTC)}, REFRESH.c.user_id == user_id, REFRESH.c.revoked_at.is_(None))

    def add_refresh_token(self, user_id: UUID, family_id: UUID, token_hash: str, expires_at: datetime) -> None:
        self.t.insert(REFRESH, [{"user_id": user_id, "family_id": family_id, "token_hash": token_hash, "expires_at": expires_at}])

    def refresh_token(self, token_hash: str) -> Row | None:
        rows = self.t.execute(sa.select(REFRESH).where(REFRESH.c.tenant_id == self.t.tenant_id,
                                                       REFRESH.c.token_hash == token_hash).with_for_update()).mappings().all()
        return dict(rows[0]) if rows else None

    def revoke_refresh(self, *, token_id: UUID | None = None, family_id: UUID | None = None) -> None:
        where: list[sa.ColumnElement[bool]] = [REFRESH.c.revoked_at.is_(None)]
        where.append(REFRESH.c.id == token_id if token_id is not None else REFRESH.c.family_id == family_id)
        self.t.update(REFRESH, {"revoked_at": datetime.now(UTC)}, *where)

    def add_key(self, row: Row) -> Row:
        return self.t.insert_returning(KEYS, row)

    def keys(self, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [KEYS.c.id > after] if after is not None else []
        return self.t.select(KEYS, *where, limit=limit, versioned=True)

    def revoke_key(self, key_id: UUID, if_match: int | None) -> Row:
        row = self.t.touch(KEYS, key_id, "API key", if_match)
        if row["revoked_at"] is None:
            row = self.t.touch(KEYS, key_id, "API key", None, {"revoked_at": datetime.now(UTC)})
        return row
