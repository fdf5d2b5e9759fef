"""Users, credentials, roles with `<module>.<entity>.<action>` permissions, tokens and keys.

Secrets (password hashes, token and key hashes) live in tables that are not captured
by change data capture, so they never reach Kafka.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from write_api.models.base import Base, TenantRow, Timestamps, locale_check, not_blank, one_of, slug_check, tenant_fk, tenant_unique

PERMISSION_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
USER_STATUSES = ("active", "disabled")
API_KEY_KINDS = ("integration", "search_public", "search_admin")


class User(TenantRow, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        tenant_unique("users"),
        sa.Index("uq_users_tenant_id_email", "tenant_id", sa.text("lower(email)"), unique=True),
        sa.CheckConstraint("email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254", name="email_format"),
        not_blank("display_name", 200),
        one_of("status", USER_STATUSES),
        locale_check(),
    )

    email: Mapped[str] = mapped_column(sa.String(254))
    display_name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="active")
    locale: Mapped[str | None] = mapped_column(sa.String(35))


class UserCredential(Base):
    __tablename__ = "user_credentials"
    __table_args__ = (tenant_fk(["user_id"], "users", ["id"]),)

    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    updated_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class Role(TenantRow, Base):
    __tablename__ = "roles"
    __table_args__ = (
        tenant_unique("roles"),
        sa.UniqueConstraint("tenant_id", "slug"),
        slug_check(),
        not_blank("name", 200),
    )

    slug: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(200))
    is_system: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class RolePermission(TenantRow, Base):
    __tablename__ = "role_permissions"
    __table_args__ = (
        tenant_fk(["role_id"], "roles", ["id"]),
        sa.UniqueConstraint("role_id", "permission"),
        sa.CheckConstraint(f"permission ~ '{PERMISSION_PATTERN}'", name="permission_format"),
    )

    role_id: Mapped[UUID]
    permission: Mapped[str] = mapped_column(sa.String(128))


class UserRole(TenantRow, Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        tenant_fk(["user_id"], "users", ["id"]),
        tenant_fk(["role_id"], "roles", ["id"]),
        sa.UniqueConstraint("user_id", "role_id"),
    )

    user_id: Mapped[UUID]
    role_id: Mapped[UUID]


class RefreshToken(TenantRow, Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        tenant_fk(["user_id"], "users", ["id"]),
        # Every request with an access token checks that its session (family) is alive.
        sa.Index("ix_refresh_tokens_tenant_id_family_id", "tenant_id", "family_id"),
    )

    user_id: Mapped[UUID]
    family_id: Mapped[UUID]
    token_hash: Mapped[str] = mapped_column(sa.String(128), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class ApiKey(TenantRow, Base):
    """Integration keys (act with a role) and storefront search keys (read-only)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        tenant_fk(["role_id"], "roles", ["id"], ondelete="SET NULL"),
        one_of("kind", API_KEY_KINDS),
        not_blank("name", 200),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(128))
    role_id: Mapped[UUID | None]
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
