"""Commerce repositories: products with their children, the catalogue (categories,
tags, price lists) and orders. Built on TenantTables, so every statement is scoped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contracts.ids import new_id
from write_api.adapters.category_tree import CategoryTree
from write_api.adapters.tables import Row, TenantTables, table_of
from write_api.models import commerce as m

PRODUCTS = table_of(m.Product)
P_TRANSLATIONS = table_of(m.ProductTranslation)
VARIANTS = table_of(m.Variant)
V_TRANSLATIONS = table_of(m.VariantTranslation)
PRICES = table_of(m.Price)
INVENTORY = table_of(m.InventoryLevel)
PRODUCT_CATEGORIES = table_of(m.ProductCategory)
PRODUCT_TAGS = table_of(m.ProductTag)
CATEGORIES = table_of(m.Category)
C_TRANSLATIONS = table_of(m.CategoryTranslation)
TAGS = table_of(m.Tag)
PRICE_LISTS = table_of(m.PriceList)
ORDERS = table_of(m.Order)
ORDER_LINES = table_of(m.OrderLine)


class ProductRepository:
    def __init__(self, tables: TenantTables) -> None:
        self.t = tables

    def skus_taken(self, skus: Iterable[str], *, except_variant: UUID | None = None) -> set[str]:
        wanted = list(set(skus))
        if not wanted:
            return set()
        where: list[sa.ColumnElement[bool]] = [VARIANTS.c.sku.in_(wanted)]
        if except_variant is not None:
            where.append(VARIANTS.c.id != except_variant)
        return {r["sku"] for r in self.t.select(VARIANTS, *where)}

    def handle_taken(self, handle: str, *, except_id: UUID | None = None) -> bool:
        where: list[sa.ColumnElement[bool]] = [PRODUCTS.c.handle == handle]
        if except_id is not None:
            where.append(PRODUCTS.c.id != except_id)
        return bool(self.t.select(PRODUCTS, *where, limit=1))

    def add(self, product: Row, children: dict[str, list[Row]]) -> Row:
        """Hold a product and its children (one statement per table) for the commit, so the
        whole creation costs the COMMIT's round trip. The product's version is the unit of
        work's ``written_version`` after the commit.

        ``children`` is updated in place with the rows as written (ids and tenant filled in).
        """
        now = datetime.now(UTC)
        root = self.t.insert_later(PRODUCTS, [{"created_at": now, "updated_at": now, **product}])[0]
        for table in (P_TRANSLATIONS, VARIANTS, V_TRANSLATIONS, PRICES, INVENTORY, PRODUCT_CATEGORIES, PRODUCT_TAGS):
            children[table.name] = self.t.insert_later(table, children.get(table.name, []))
        return root

    def add_children(self, table_name: str, rows: list[Row]) -> None:
        self.t.insert(_CHILD_TABLES[table_name], rows)

    def touch(self, product_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(PRODUCTS, product_id, "product", if_match, values)

    def get_root(self, product_id: UUID) -> Row | None:
        return self.t.get(PRODUCTS, product_id)

    def delete(self, product_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(PRODUCTS, product_id, "product", if_match)

    def replace_translations(self, product_id: UUID, rows: list[Row]) -> None:
        self.t.delete(P_TRANSLATIONS, P_TRANSLATIONS.c.product_id == product_id)
        self.t.insert(P_TRANSLATIONS, rows)

    def replace_links(self, product_id: UUID, category_rows: list[Row] | None, tag_rows: list[Row] | None) -> None:
        if category_rows is not None:
            self.t.delete(PRODUCT_CATEGORIES, PRODUCT_CATEGORIES.c.product_id == product_id)
            self.t.insert(PRODUCT_CATEGORIES, category_rows)
        if tag_rows is not None:
            self.t.delete(PRODUCT_TAGS, PRODUCT_TAGS.c.product_id == product_id)
            self.t.insert(PRODUCT_TAGS, tag_rows)

    def variant(self, product_id: UUID, variant_id: UUID) -> Row | None:
        rows = self.t.select(VARIANTS, VARIANTS.c.id == variant_id, VARIANTS.c.product_id == product_id)
        return rows[0] if rows else None

    def variant_count(self, product_id: UUID) -> int:
        return len(self.t.select(VARIANTS, VARIANTS.c.product_id == product_id))

    def update_variant(self, variant_id: UUID, values: Row) -> None:
        if values:
            self.t.update(VARIANTS, {**values, "updated_at": sa.func.now()}, VARIANTS.c.id == variant_id)

    def replace_variant_children(self, variant_id: UUID, table_name: str, rows: list[Row]) -> None:
        table = _CHILD_TABLES[table_name]
        self.t.delete(table, table.c.variant_id == variant_id)
        self.t.insert(table, rows)

    def delete_variant(self, variant_id: UUID) -> None:
        self.t.delete(VARIANTS, VARIANTS.c.id == variant_id)

    def set_inventory(self, row: Row) -> None:
        statement = pg_insert(INVENTORY).values({**row, "tenant_id": self.t.tenant_id}).on_conflict_do_update(
            index_elements=["variant_id", "location"],
            set_={"stocked_quantity": row["stocked_quantity"], "reserved_quantity": row["reserved_quantity"],
                  "updated_at": sa.func.now()},
            where=INVENTORY.c.tenant_id == self.t.tenant_id,
        )
        self.t.execute(statement)

    def list_roots(self, status: str | None, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = []
        if status is not None:
            where.append(PRODUCTS.c.status == status)
        if after is not None:
            where.append(PRODUCTS.c.id > after)
        return self.t.select(PRODUCTS, *where, limit=limit, versioned=True)

    def load(self, product_id: UUID) -> dict[str, Any] | None:
        root = self.t.get(PRODUCTS, product_id)
        return None if root is None else self.load_many([root])[0]

    def load_many(self, roots: Sequence[Row]) -> list[dict[str, Any]]:
        """Whole products for the given root rows, one query per child table."""
        ids = [r["id"] for r in roots]
        if not ids:
            return []
        children = {
            table.name: self.t.select(table, table.c.product_id.in_(ids))
            for table in (P_TRANSLATIONS, VARIANTS, V_TRANSLATIONS, PRICES, INVENTORY, PRODUCT_CATEGORIES)
        }
        tag_rows = self.t.execute(
            sa.select(PRODUCT_TAGS.c.product_id, TAGS.c.slug)
            .join(TAGS, sa.and_(TAGS.c.id == PRODUCT_TAGS.c.tag_id, TAGS.c.tenant_id == PRODUCT_TAGS.c.tenant_id))
            .where(PRODUCT_TAGS.c.tenant_id == self.t.tenant_id, PRODUCT_TAGS.c.product_id.in_(ids))
            .order_by(TAGS.c.slug)
        ).mappings()
        tags: dict[UUID, list[str]] = defaultdict(list)
        for r in tag_rows:
            tags[r["product_id"]].append(r["slug"])
        return [assemble_product(root, children, tags.get(root["id"], [])) for root in roots]


_CHILD_TABLES = {t.name: t for t in (P_TRANSLATIONS, VARIANTS, V_TRANSLATIONS, PRICES, INVENTORY,
                                     PRODUCT_CATEGORIES, PRODUCT_TAGS)}


def _by(rows: Iterable[Row], key: str) -> dict[Any, list[Row]]:
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def assemble_product(root: Row, children: dict[str, list[Row]], tags: list[str]) -> dict[str, Any]:
    """The public shape of a product from its rows (also used right after an insert)."""
    pid = root["id"]
    v_trans = _by(children.get(V_TRANSLATIONS.name, []), "variant_id")
    prices = _by(children.get(PRICES.name, []), "variant_id")
    stock = _by(children.get(INVENTORY.name, []), "variant_id")
    variants = sorted((v for v in children.get(VARIANTS.name, []) if v["product_id"] == pid),
                      key=lambda v: (v.get("position") or 0, v["id"]))
    return {
        **{k: root.get(k) for k in ("id", "handle", "status", "vendor", "product_type", "published_at",
                                    "created_at", "updated_at", "version")},
        "discountable": root.get("discountable", True),
        "metadata": root.get("metadata") or {},
        "translations": sorted((t for t in children.get(P_TRANSLATIONS.name, []) if t["product_id"] == pid),
                               key=lambda t: t["locale"]),
        "variants": [
            {**v, "options": v.get("options") or {}, "inventory_policy": v.get("inventory_policy") or "deny",
             "manage_inventory": v.get("manage_inventory", True), "position": v.get("position") or 0,
             "translations": v_trans.get(v["id"], []), "prices": prices.get(v["id"], []),
             "inventory": [{"reserved_quantity": 0, **s} for s in stock.get(v["id"], [])]}
            for v in variants
        ],
        "category_ids": [c["category_id"] for c in children.get(PRODUCT_CATEGORIES.name, []) if c["product_id"] == pid],
        "tags": tags,
    }


class CatalogRepository:
    """Categories (a tree with translations), tags and price lists."""

    def __init__(self, tables: TenantTables) -> None:
        self.t = tables
        self.categories = CategoryTree(tables, CATEGORIES, C_TRANSLATIONS, "category")

    def tag_ids(self, slugs: Sequence[str], *, create: bool) -> dict[str, UUID]:
        """Ids of tags by slug; with ``create`` the missing ones are made (named after their slug)."""
        if not slugs:
            return {}
        if create:
            statement = pg_insert(TAGS).on_conflict_do_nothing(index_elements=["tenant_id", "slug"])
            self.t.execute(statement, [{"id": new_id(), "tenant_id": self.t.tenant_id, "slug": s, "name": s} for s in slugs])
        return {r["slug"]: r["id"] for r in self.t.select(TAGS, TAGS.c.slug.in_(list(slugs)))}

    def price_list_ids(self, slugs: Sequence[str]) -> dict[str, UUID]:
        if not slugs:
            return {}
        return {r["slug"]: r["id"] for r in self.t.select(PRICE_LISTS, PRICE_LISTS.c.slug.in_(list(slugs)))}

    def add_tag(self, row: Row) -> Row:
        return self.t.insert_returning(TAGS, row)

    def list_tags(self, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [TAGS.c.id > after] if after is not None else []
        return self.t.select(TAGS, *where, limit=limit, versioned=True)

    def delete_tag(self, tag_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(TAGS, tag_id, "tag", if_match)

    def add_price_list(self, row: Row) -> Row:
        return self.t.insert_returning(PRICE_LISTS, row)

    def list_price_lists(self, after: UUID | None, limit: int) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [PRICE_LISTS.c.id > after] if after is not None else []
        return self.t.select(PRICE_LISTS, *where, limit=limit, versioned=True)


class OrderRepository:
    def __init__(self, tables: TenantTables) -> None:
        self.t = tables

    def sellable_variants(self, variant_ids: Iterable[UUID]) -> dict[UUID, Row]:
        """Variants with their product's status and default title, by id."""
        ids = list(set(variant_ids))
        statement = (
            sa.select(VARIANTS.c.id, VARIANTS.c.product_id, VARIANTS.c.sku, PRODUCTS.c.status, PRODUCTS.c.handle)
            .join(PRODUCTS, sa.and_(PRODUCTS.c.id == VARIANTS.c.product_id, PRODUCTS.c.tenant_id == VARIANTS.c.tenant_id))
            .where(VARIANTS.c.tenant_id == self.t.tenant_id, VARIANTS.c.id.in_(ids))
        )
        return {r["id"]: dict(r) for r in self.t.execute(statement).mappings()}

    def prices(self, variant_ids: Iterable[UUID], currency: str, price_list_id: UUID | None) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [PRICES.c.variant_id.in_(list(set(variant_ids))), PRICES.c.currency_code == currency]
        where.append(PRICES.c.price_list_id.is_(None) if price_list_id is None else PRICES.c.price_list_id == price_list_id)
        return self.t.select(PRICES, *where)

    def next_number(self) -> int:
        # Serialise numbering per tenant: the advisory lock lasts until the transaction ends.
        self.t.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"orders:{self.t.tenant_id}"})
        current = self.t.execute(
            sa.select(sa.func.coalesce(sa.func.max(ORDERS.c.number), 0)).where(ORDERS.c.tenant_id == self.t.tenant_id)
        ).scalar_one()
        return int(current) + 1

    def add(self, order: Row, lines: list[Row]) -> Row:
        root = self.t.insert_returning(ORDERS, order)
        self.t.insert(ORDER_LINES, lines)
        return root

    def touch(self, order_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(ORDERS, order_id, "order", if_match, values)

    def load(self, order_id: UUID) -> dict[str, Any] | None:
        root = self.t.get(ORDERS, order_id)
        return None if root is None else self.load_many([root])[0]

    def load_many(self, roots: Sequence[Row]) -> list[dict[str, Any]]:
        ids = [r["id"] for r in roots]
        lines = _by(self.t.select(ORDER_LINES, ORDER_LINES.c.order_id.in_(ids)), "order_id") if ids else {}
        return [{**r, "lines": lines.get(r["id"], [])} for r in roots]

    def list(self, after: UUID | None, limit: int) -> list[dict[str, Any]]:
        where: list[sa.ColumnElement[bool]] = [ORDERS.c.id > after] if after is not None else []
        return self.load_many(self.t.select(ORDERS, *where, limit=limit, versioned=True))
