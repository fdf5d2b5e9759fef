"""Tenant, user, token and API key models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, StringConstraints

from contracts.tenancy import MODULES
from write_api.schemas.common import LocaleField, Name, Out, Slug, Strict

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
Password = Annotated[SecretStr, Field(min_length=10, max_length=200)]
Module = Literal["content", "blog", "forum", "pages", "commerce", "flex", "index"]
assert set(Module.__args__) == set(MODULES)  # type: ignore[attr-defined]


class AdminIn(Strict):
    email: Email
    display_name: Name
    password: Password


class TenantIn(Strict):
    slug: Slug
    name: Name
    default_locale: LocaleField
    locales: Annotated[list[LocaleField], Field(max_length=50)] = []
    modules: list[Module] = ["content", "blog", "forum", "pages", "commerce", "flex", "index"]
    admin: AdminIn


class TenantPatch(Strict):
    """Locales: the enabled ones, in order; a locale left out is disabled (its translations stay)."""

    name: Name | None = None
    default_locale: LocaleField | None = None
    locales: Annotated[list[LocaleField], Field(min_length=1, max_length=50)] | None = None


class ModuleSwitch(Strict):
    enabled: bool


class TenantOut(Out):
    id: Any
    slug: str
    name: str
    status: str
    default_locale: str
    locales: list[str]
    modules: dict[str, bool]
    admin_user_id: Any | None = None


class LoginIn(Strict):
    tenant: Slug
    email: Email
    password: Annotated[SecretStr, Field(max_length=200)]


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(max_length=4096)]


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    consistency_token: str | None = None


class UserIn(Strict):
    email: Email
    display_name: Name
    password: Password
    locale: LocaleField | None = None
    roles: Annotated[list[Slug], Field(min_length=1, max_length=20)]


class UserPatch(Strict):
    """``roles`` replaces the user's roles; ``status: disabled`` also ends every session at once."""

    display_name: Name | None = None
    locale: LocaleField | None = None
    status: Literal["active", "disabled"] | None = None
    roles: Annotated[list[Slug], Field(min_length=1, max_length=20)] | None = None


class UserOut(Out):
    id: Any
    email: str
    display_name: str
    status: str
    locale: str | None
    roles: list[str] = []


class MeOut(BaseModel):
    tenant_id: Any
    user_id: Any | None
    api_key_id: Any | None
    permissions: list[str]
    modules: list[str]
    locales: list[str]
    default_locale: str


class RoleOut(Out):
    id: Any
    slug: str
    name: str
    is_system: bool
    permissions: list[str]


class ApiKeyIn(Strict):
    name: Name
    kind: Literal["integration", "search_public", "search_admin"]
    role: Slug | None = None
    expires_at: datetime | None = None


class ApiKeyOut(Out):
    id: Any
    name: str
    kind: str
    prefix: str
    role_id: Any | None
    created_at: datetime | None = None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(default=None, description="When the key last authenticated a request (to the minute)")
    key: str | None = Field(default=None, description="The whole key: shown once, at creation, never again")
