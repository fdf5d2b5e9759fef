"""Content repository: nodes with translations, bodies and tags; content categories and tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contracts.ids import new_id
from write_api.adapters.category_tree import CategoryTree
from write_api.adapters.tables import Row, TenantTables, table_of
from write_api.models import content as m

NODES = table_of(m.Node)
TRANSLATIONS = table_of(m.NodeTranslation)
BODIES = table_of(m.NodeBody)
NODE_TAGS = table_of(m.NodeTag)
TAGS = table_of(m.ContentTag)
CATEGORIES = table_of(m.ContentCategory)
C_TRANSLATIONS = table_of(m.ContentCategoryTranslation)


class NodeRepository:
    def __init__(self, tables: TenantTables) -> None:
        self.t = tables
        self.categories = CategoryTree(tables, CATEGORIES, C_TRANSLATIONS, "category")

    def get_root(self, node_id: UUID) -> Row | None:
        return self.t.get(NODES, node_id)

    def add(self, node: Row, translations: list[Row], bodies: list[Row], tag_ids: list[UUID]) -> Row:
        root = self.t.insert_returning(NODES, node)
        self.t.insert(TRANSLATIONS, translations)
        self.t.insert(BODIES, bodies)
        self.t.insert(NODE_TAGS, [{"node_id": root["id"], "tag_id": t} for t in tag_ids])
        return root

    def touch(self, node_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(NODES, node_id, "node", if_match, values)

    def replace_texts(self, node_id: UUID, translations: list[Row], bodies: list[Row]) -> None:
        self.t.delete(TRANSLATIONS, TRANSLATIONS.c.node_id == node_id)
        self.t.delete(BODIES, BODIES.c.node_id == node_id)
        self.t.insert(TRANSLATIONS, translations)
        self.t.insert(BODIES, bodies)

    def replace_tags(self, node_id: UUID, tag_ids: list[UUID]) -> None:
        self.t.delete(NODE_TAGS, NODE_TAGS.c.node_id == node_id)
        self.t.insert(NODE_TAGS, [{"node_id": node_id, "tag_id": t} for t in tag_ids])

    def delete(self, node_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(NODES, node_id, "node", if_match)

    def has_children(self, node_id: UUID) -> bool:
        return bool(self.t.select(NODES, NODES.c.parent_id == node_id, limit=1))

    def tag_ids(self, slugs: Sequence[str]) -> dict[str, UUID]:
        """Tag ids by slug, creating missing tags (named after their slug)."""
        if not slugs:
            return {}
        statement = pg_insert(TAGS).on_conflict_do_nothing(index_elements=["tenant_id", "slug"])
        self.t.execute(statement, [{"id": new_id(), "tenant_id": self.t.tenant_id, "slug": s, "name": s} for s in slugs])
        return {r["slug"]: r["id"] for r in self.t.select(TAGS, TAGS.c.slug.in_(list(slugs)))}

    def category_exists(self, category_id: UUID) -> bool:
        return bool(self.categories.ids([category_id]))

    def list_roots(self, kinds: Sequence[str], status: str | None, root_id: UUID | None, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [NODES.c.kind.in_(list(kinds))]
        if status is not None:
            where.append(NODES.c.status == status)
        if root_id is not None:
            where.append(NODES.c.root_id == root_id)
        if after is not None:
            where.append(NODES.c.id > after)
        return self.t.select(NODES, *where, limit=limit, versioned=True)

    def load(self, node_id: UUID) -> dict[str, Any] | None:
        root = self.t.get(NODES, node_id)
        return None if root is None else self.load_many([root])[0]

    def load_many(self, roots: Sequence[Row]) -> list[dict[str, Any]]:
        ids = [r["id"] for r in roots]
        if not ids:
            return []
        texts = self.t.select(TRANSLATIONS, TRANSLATIONS.c.node_id.in_(ids))
        bodies = self.t.select(BODIES, BODIES.c.node_id.in_(ids))
        tags = self.t.execute(
            sa.select(NODE_TAGS.c.node_id, TAGS.c.slug)
            .join(TAGS, sa.and_(TAGS.c.id == NODE_TAGS.c.tag_id, TAGS.c.tenant_id == NODE_TAGS.c.tenant_id))
            .where(NODE_TAGS.c.tenant_id == self.t.tenant_id, NODE_TAGS.c.node_id.in_(ids)).order_by(TAGS.c.slug)
        ).mappings()
        tag_map: dict[UUID, list[str]] = defaultdict(list)
        for r in tags:
            tag_map[r["node_id"]].append(r["slug"])
        return [assemble_node(root, texts, bodies, tag_map.get(root["id"], [])) for root in roots]

    def add_tag(self, row: Row) -> Row:
        return self.t.insert_returning(TAGS, row)

    def list_tags(self, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [TAGS.c.id > after] if after is not None else []
        return self.t.select(TAGS, *where, limit=limit, versioned=True)

    def delete_tag(self, tag_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(TAGS, tag_id, "tag", if_match)


def assemble_node(root: Row, texts: list[Row], bodies: list[Row], tags: list[str]) -> dict[str, Any]:
    nid = root["id"]
    body_by_locale = {b["locale"]: b for b in bodies if b["node_id"] == nid}
    locales = sorted({t["locale"] for t in texts if t["node_id"] == nid} | set(body_by_locale))
    text_by_locale = {t["locale"]: t for t in texts if t["node_id"] == nid}
    translations = []
    for locale in locales:
        text, body = text_by_locale.get(locale, {}), body_by_locale.get(locale, {})
        translations.append({**{k: text.get(k) for k in ("title", "slug", "excerpt", "meta_title", "meta_description")},
                             "locale": locale, "body": body.get("body"), "format": body.get("format")})
    return {**root, "metadata": root.get("metadata") or {}, "translations": translations, "tags": tags}
