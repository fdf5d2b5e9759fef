"""Flex: tenant-defined schemas and JSONB entries validated against them.

Standard modules never depend on Flex. An entry may be attached to a product or a
node; the attachment is its aggregate root for the read model.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from write_api.models.base import Base, TenantRow, Timestamps, json_object, jsonb_default, not_blank, slug_check, tenant_fk, tenant_unique

MAX_FIELDS = 50
ATTACHABLE = ("product", "node")


class FlexSchema(TenantRow, Timestamps, Base):
    __tablename__ = "flex_schemas"
    __table_args__ = (
        tenant_unique("flex_schemas"),
        sa.UniqueConstraint("tenant_id", "slug"),
        slug_check(),
        not_blank("name", 200),
        sa.CheckConstraint(
            f"jsonb_typeof(fields) = 'array' AND jsonb_array_length(fields) BETWEEN 1 AND {MAX_FIELDS}",
            name="fields_bounded",
        ),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    slug: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(200))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(sa.dialects.postgresql.JSONB)
    version: Mapped[int] = mapped_column(server_default="1")


class FlexEntry(TenantRow, Timestamps, Base):
    __tablename__ = "flex_entries"
    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "schema_id"], ["flex_schemas.tenant_id", "flex_schemas.id"], ondelete="RESTRICT"),
        sa.CheckConstraint(
            "(entity_type IS NULL) = (entity_id IS NULL) AND (entity_type IS NULL OR entity_type IN ('product', 'node'))",
            name="attachment_valid",
        ),
        sa.CheckConstraint("schema_version >= 1", name="schema_version_positive"),
        json_object("data"),
        sa.Index("ix_flex_entries_entity", "tenant_id", "entity_type", "entity_id"),
        sa.Index("ix_flex_entries_data", "data", postgresql_using="gin"),
    )

    schema_id: Mapped[UUID]
    schema_version: Mapped[int]
    entity_type: Mapped[str | None] = mapped_column(sa.String(16))
    entity_id: Mapped[UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(server_default=jsonb_default())
