"""Content: nodes of kind page, post, comment, topic, reply, with translations, bodies,
categories and tags. Blog, forum and pages are wrappers over nodes.

A node is its own aggregate root unless it is a comment or a reply, whose ``root_id``
names the post or topic it belongs to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from write_api.models.base import (
    Base,
    TenantRow,
    Timestamps,
    json_object,
    jsonb_default,
    locale_check,
    non_negative,
    not_blank,
    one_of,
    slug_check,
    tenant_fk,
    tenant_unique,
)

NODE_KINDS = ("page", "post", "comment", "topic", "reply")
CHILD_KINDS = ("comment", "reply")
NODE_STATUSES = ("draft", "published", "archived")
BODY_FORMATS = ("markdown", "html")


class ContentCategory(TenantRow, Timestamps, Base):
    __tablename__ = "content_categories"
    __table_args__ = (
        tenant_unique("content_categories"),
        sa.UniqueConstraint("tenant_id", "slug"),
        tenant_fk(["parent_id"], "content_categories", ["id"]),
        slug_check(),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    parent_id: Mapped[UUID | None]
    slug: Mapped[str] = mapped_column(sa.String(128))
    position: Mapped[int] = mapped_column(server_default="0")


class ContentCategoryTranslation(TenantRow, Base):
    __tablename__ = "content_category_translations"
    __table_args__ = (
        tenant_fk(["category_id"], "content_categories", ["id"]),
        sa.UniqueConstraint("category_id", "locale"),
        locale_check(),
        not_blank("name", 200),
    )

    category_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)


class ContentTag(TenantRow, Base):
    __tablename__ = "content_tags"
    __table_args__ = (
        tenant_unique("content_tags"),
        sa.UniqueConstraint("tenant_id", "slug"),
        slug_check(),
        not_blank("name", 100),
    )

    slug: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(100))


class Node(TenantRow, Timestamps, Base):
    __tablename__ = "nodes"
    __table_args__ = (
        tenant_unique("nodes"),
        tenant_fk(["parent_id"], "nodes", ["id"]),
        tenant_fk(["root_id"], "nodes", ["id"]),
        tenant_fk(["author_id"], "users", ["id"], ondelete="SET NULL"),
        tenant_fk(["category_id"], "content_categories", ["id"], ondelete="SET NULL"),
        one_of("kind", NODE_KINDS),
        one_of("status", NODE_STATUSES),
        sa.CheckConstraint(
            "(kind IN ('comment', 'reply')) = (root_id <> id) AND (kind NOT IN ('comment', 'reply') OR parent_id IS NOT NULL)",
            name="root_matches_kind",
        ),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_has_date"),
        *non_negative("depth", "position"),
        json_object("metadata"),
        sa.Index("ix_nodes_tenant_id_kind_status", "tenant_id", "kind", "status"),
        sa.Index("ix_nodes_root_id", "root_id"),
    )

    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="draft")
    parent_id: Mapped[UUID | None]
    root_id: Mapped[UUID]
    author_id: Mapped[UUID | None]
    category_id: Mapped[UUID | None]
    position: Mapped[int] = mapped_column(server_default="0")
    depth: Mapped[int] = mapped_column(server_default="0")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=jsonb_default())
    published_at: Mapped[datetime | None]


class NodeTranslation(TenantRow, Timestamps, Base):
    __tablename__ = "node_translations"
    __table_args__ = (
        tenant_fk(["node_id"], "nodes", ["id"]),
        sa.UniqueConstraint("node_id", "locale"),
        # Slugs are unique per tenant and locale across kinds, so /<locale>/<slug> is unambiguous.
        sa.Index("uq_node_translations_tenant_id_locale_slug", "tenant_id", "locale", "slug", unique=True,
                 postgresql_where=sa.text("slug IS NOT NULL")),
        locale_check(),
        slug_check(),
        sa.CheckConstraint("title IS NULL OR length(title) <= 300", name="title_length"),
    )

    node_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    slug: Mapped[str | None] = mapped_column(sa.String(128))
    excerpt: Mapped[str | None] = mapped_column(sa.Text)
    meta_title: Mapped[str | None] = mapped_column(sa.String(300))
    meta_description: Mapped[str | None] = mapped_column(sa.String(500))


class NodeBody(TenantRow, Base):
    __tablename__ = "node_bodies"
    __table_args__ = (
        tenant_fk(["node_id"], "nodes", ["id"]),
        sa.UniqueConstraint("node_id", "locale"),
        locale_check(),
        one_of("format", BODY_FORMATS),
    )

    node_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    body: Mapped[str] = mapped_column(sa.Text)
    format: Mapped[str] = mapped_column(sa.String(16), server_default="markdown")
    updated_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class NodeTag(TenantRow, Base):
    __tablename__ = "node_tags"
    __table_args__ = (
        tenant_fk(["node_id"], "nodes", ["id"]),
        tenant_fk(["tag_id"], "content_tags", ["id"]),
        sa.UniqueConstraint("node_id", "tag_id"),
        sa.Index("ix_node_tags_tag_id", "tag_id"),
    )

    node_id: Mapped[UUID]
    tag_id: Mapped[UUID]
