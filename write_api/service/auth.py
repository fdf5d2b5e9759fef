"""Tenancy and auth commands: tenants, modules, login/refresh/logout, users, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from contracts.ids import new_id
from contracts.keys import ApiKeyKind, issue_api_key
from write_api.domain.permissions import ROLE_PERMISSIONS
from write_api.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthenticated
from write_api.schemas.auth import ApiKeyIn, TenantIn, TenantPatch, UserIn, UserPatch
from write_api.service.common import Written, found
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored: str | None, password: str) -> bool: ...


class TokenIssuer(Protocol):
    access_seconds: int

    def issue(self, kind: Any, tenant_id: UUID, user_id: UUID, session_id: UUID) -> tuple[str, datetime]: ...


@dataclass(frozen=True)
class CreateTenant:
    data: TenantIn


@dataclass(frozen=True)
class UpdateTenant:
    data: TenantPatch


@dataclass(frozen=True)
class UpdateUser:
    principal: Principal
    user_id: UUID
    data: UserPatch
    if_match: int | None


@dataclass(frozen=True)
class SwitchModule:
    module: str
    enabled: bool


@dataclass(frozen=True)
class LogIn:
    email: str
    password: str


@dataclass(frozen=True)
class Refresh:
    user_id: UUID
    session_id: UUID
    token_hash: str


@dataclass(frozen=True)
class LogOut:
    session_id: UUID


@dataclass(frozen=True)
class CreateUser:
    principal: Principal
    data: UserIn


@dataclass(frozen=True)
class IssueApiKey:
    name: str
    kind: ApiKeyKind
    role: str | None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RevokeApiKey:
    key_id: UUID
    if_match: int | None = None


def create_tenant(cmd: CreateTenant, uow: UnitOfWork, passwords: PasswordHasher) -> Written:
    data = cmd.data
    locales = list(dict.fromkeys([data.default_locale, *data.locales]))
    password_hash = passwords.hash(data.admin.password.get_secret_value())
    with uow:
        uow.auth.create_tenant({"slug": data.slug, "name": data.name, "default_locale": data.default_locale})
        uow.auth.add_locales(locales)
        for module in sorted(set(data.modules)):
            uow.auth.set_module(module, True)
        roles = uow.auth.seed_roles(ROLE_PERMISSIONS)
        admin = uow.auth.add_user({"email": data.admin.email, "display_name": data.admin.display_name},
                                  password_hash, [roles["admin"]])
        uow.outbox.append("tenant", uow.tenant_id, "TenantCreated", {"id": str(uow.tenant_id), "slug": data.slug,
                                                                     "locales": locales, "modules": sorted(set(data.modules))})
        view = found(uow.auth.tenant(), "tenant", uow.tenant_id)
        token = uow.commit()
    return Written({**view, "admin_user_id": admin["id"]}, None, token)


def switch_module(cmd: SwitchModule, uow: UnitOfWork) -> Written:
    with uow:
        if uow.auth.tenant() is None:
            raise NotFound(f"no tenant with id {uow.tenant_id}")
        uow.auth.set_module(cmd.module, cmd.enabled)
        uow.outbox.append("tenant", uow.tenant_id, "ModuleEnabled" if cmd.enabled else "ModuleDisabled",
                          {"id": str(uow.tenant_id), "module": cmd.module})
        view = found(uow.auth.tenant(), "tenant", uow.tenant_id)
        token = uow.commit()
    return Written(view, None, token)


def update_tenant(cmd: UpdateTenant, uow: UnitOfWork) -> Written:
    """Rename, change the default locale, or set the enabled locales. The pipeline sees the
    locale rows change and re-indexes the tenant's documents in the new set of locales."""
    data = cmd.data
    with uow:
        tenant = uow.auth.tenant()
        if tenant is None:
            raise NotFound(f"no tenant with id {uow.tenant_id}")
        locales = list(dict.fromkeys(data.locales)) if data.locales is not None else tenant["locales"]
        default = data.default_locale or tenant["default_locale"]
        if default not in locales:
            path = ("body", "default_locale") if data.default_locale else ("body", "locales")
            raise InvalidInput("the default locale must be enabled", (FieldError(path, f"{default!r} is not among the enabled locales"),))
        uow.auth.update_tenant({k: v for k, v in (("name", data.name), ("default_locale", data.default_locale)) if v})
        if data.locales is not None:
            uow.auth.set_locales(locales)
        uow.outbox.append("tenant", uow.tenant_id, "TenantUpdated", {"id": str(uow.tenant_id), "default_locale": default,
                                                                     "locales": locales, "fields": sorted(data.model_fields_set)})
        view = found(uow.auth.tenant(), "tenant", uow.tenant_id)
        token = uow.commit()
    return Written(view, None, token)


def _check_admins_remain(uow: UnitOfWork, user_id: UUID, data: UserPatch, role_slugs: set[str] | None) -> None:
    """The tenant keeps at least one active admin: nobody can lock everybody out."""
    loses_admin = data.status == "disabled" or (role_slugs is not None and "admin" not in role_slugs)
    if loses_admin and uow.auth.active_admins() <= {user_id}:
        field = "status" if data.status == "disabled" else "roles"
        raise Conflict("the tenant would have no active admin", (FieldError(("body", field), "keep at least one active admin"),))


def update_user(cmd: UpdateUser, uow: UnitOfWork) -> Written:
    data, uid = cmd.data, cmd.user_id
    with uow:
        uow.auth.touch_user(uid, cmd.if_match)  # 404 or 412 before anything else
        role_ids = None
        if data.roles is not None:
            found_roles = uow.auth.role_ids(data.roles)
            missing = [FieldError(("body", "roles", i), f"no role {slug!r}") for i, slug in enumerate(data.roles) if slug not in found_roles]
            if missing:
                raise InvalidInput("unknown role", tuple(missing))
            role_ids = set(found_roles.values())
        _check_admins_remain(uow, uid, data, set(data.roles) if data.roles is not None else None)
        values = data.model_dump(exclude_unset=True, exclude={"roles"})
        root = uow.auth.touch_user(uid, None, {k: v for k, v in values.items() if v is not None or k == "locale"})
        if role_ids is not None:
            uow.auth.replace_user_roles(uid, role_ids)
        if data.status == "disabled":
            uow.auth.end_sessions(uid)
        uow.outbox.append("user", uid, "UserUpdated", {"id": str(uid), "fields": sorted(data.model_fields_set)})
        view = uow.auth.users([uid], None, 1)[0]
        token = uow.commit()
    return Written(view, root["version"], token)


def _issue_pair(uow: UnitOfWork, codec: TokenIssuer, user_id: UUID, session_id: UUID, hash_of: Any) -> dict[str, Any]:
    access, _ = codec.issue("access", uow.tenant_id, user_id, session_id)
    refresh, expires = codec.issue("refresh", uow.tenant_id, user_id, session_id)
    uow.auth.add_refresh_token(user_id, session_id, hash_of(refresh), expires)
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": codec.access_seconds}


def log_in(cmd: LogIn, uow: UnitOfWork, passwords: PasswordHasher, codec: TokenIssuer, hash_of: Any) -> Written:
    with uow:
        found_user = uow.auth.user_login(cmd.email)
        user, stored = found_user if found_user else (None, None)
        if not passwords.verify(stored, cmd.password) or user is None or user["status"] != "active":
            raise Unauthenticated("wrong tenant, email or password")
        body = _issue_pair(uow, codec, user["id"], new_id(), hash_of)
        token = uow.commit()
    return Written(body, None, token)


def refresh(cmd: Refresh, uow: UnitOfWork, codec: TokenIssuer, hash_of: Any) -> Written:
    with uow:
        stored = uow.auth.refresh_token(cmd.token_hash)
        if stored is None or stored["family_id"] != cmd.session_id:
            raise Unauthenticated("unknown refresh token")
        if stored["revoked_at"] is not None:
            # A used refresh token shown again means it leaked: end the whole session.
            uow.auth.revoke_refresh(family_id=stored["family_id"])
            uow.commit()
            raise Unauthenticated("this refresh token was already used; the session has been ended")
        if stored["expires_at"] <= datetime.now(UTC):
            raise Unauthenticated("the refresh token has expired")
        uow.auth.revoke_refresh(token_id=stored["id"])
        body = _issue_pair(uow, codec, cmd.user_id, cmd.session_id, hash_of)
        token = uow.commit()
    return Written(body, None, token)


def log_out(cmd: LogOut, uow: UnitOfWork) -> Written:
    with uow:
        uow.auth.revoke_refresh(family_id=cmd.session_id)
        token = uow.commit()
    return Written({"logged_out": True}, None, token)


def create_user(cmd: CreateUser, uow: UnitOfWork, passwords: PasswordHasher) -> Written:
    data = cmd.data
    password_hash = passwords.hash(data.password.get_secret_value())
    with uow:
        roles = uow.auth.role_ids(data.roles)
        missing = [FieldError(("body", "roles", i), f"no role {slug!r}") for i, slug in enumerate(data.roles) if slug not in roles]
        if missing:
            raise InvalidInput("unknown role", tuple(missing))
        user = uow.auth.add_user({"email": data.email, "display_name": data.display_name, "locale": data.locale},
                                 password_hash, set(roles.values()))
        uow.outbox.append("user", user["id"], "UserCreated", {"id": str(user["id"]), "roles": sorted(data.roles)})
        token = uow.commit()
    return Written({**user, "roles": sorted(set(data.roles))}, user["version"], token)


def issue_key(cmd: IssueApiKey, uow: UnitOfWork) -> Written:
    """Issue a key; the whole key is in the result once and is never stored."""
    if cmd.kind == "integration" and cmd.role is None:
        raise InvalidInput("an integration key acts with a role", (FieldError(("body", "role"), "required for integration keys"),))
    issued = issue_api_key(cmd.kind)
    with uow:
        role_id = None
        if cmd.role is not None:
            role_id = uow.auth.role_ids([cmd.role]).get(cmd.role)
            if role_id is None:
                raise InvalidInput("unknown role", (FieldError(("body", "role"), f"no role {cmd.role!r}"),))
        row = uow.auth.add_key({"name": cmd.name, "kind": cmd.kind, "prefix": issued.prefix, "key_hash": issued.key_hash,
                                "role_id": role_id, "expires_at": cmd.expires_at})
        uow.outbox.append("api_key", row["id"], "ApiKeyIssued", {"id": str(row["id"]), "kind": cmd.kind, "prefix": issued.prefix})
        token = uow.commit()
    return Written({**row, "key": issued.key}, row["version"], token)


def revoke_key(cmd: RevokeApiKey, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.auth.revoke_key(cmd.key_id, cmd.if_match)
        uow.outbox.append("api_key", cmd.key_id, "ApiKeyRevoked", {"id": str(cmd.key_id), "prefix": row["prefix"]})
        token = uow.commit()
    return Written(row, row["version"], token)
