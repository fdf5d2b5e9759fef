"""Tenants, the locales they publish in, and the modules they have enabled."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from contracts.ids import new_id
from contracts.tenancy import MODULES
from write_api.models.base import (
    Base,
    TenantRow,
    Timestamps,
    json_object,
    jsonb_default,
    locale_check,
    not_blank,
    one_of,
    slug_check,
    tenant_unique,
)

TENANT_STATUSES = ("active", "suspended")


class Tenant(Timestamps, Base):
    __tablename__ = "tenants"
    __table_args__ = (
        slug_check(),
        locale_check("default_locale"),
        not_blank("name", 200),
        one_of("status", TENANT_STATUSES),
        json_object("settings"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(sa.String(128), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    default_locale: Mapped[str] = mapped_column(sa.String(35))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="active")
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=jsonb_default())


class TenantLocale(TenantRow, Base):
    __tablename__ = "tenant_locales"
    __table_args__ = (
        tenant_unique("tenant_locales"),
        sa.UniqueConstraint("tenant_id", "locale"),
        locale_check(),
    )

    locale: Mapped[str] = mapped_column(sa.String(35))
    enabled: Mapped[bool] = mapped_column(server_default=sa.true())
    position: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class TenantModule(TenantRow, Timestamps, Base):
    __tablename__ = "tenant_modules"
    __table_args__ = (
        tenant_unique("tenant_modules"),
        sa.UniqueConstraint("tenant_id", "module"),
        one_of("module", MODULES),
        json_object("settings"),
    )

    module: Mapped[str] = mapped_column(sa.String(32))
    enabled: Mapped[bool] = mapped_column(server_default=sa.true())
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=jsonb_default())
