"""What each captured table means to the projection core.

Three kinds of table:

* **root tables** — rows that belong to one aggregate root (a product, or a content
  node of kind page/post/topic); every such row carries its root's id;
* **dimension tables** — small shared rows many roots read (tenants and their
  locales, categories and their translations, tags, authors, Flex schemas); a change
  fans out to the roots that use them;
* **ignored tables** — feed no document (orders, roles, outbox, ...).

Group names index live rows in the state store (see :mod:`pipelines.state.port`).
Ids are kept as the strings Debezium sends (canonical lower-case UUIDs), so keys are
built without parsing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipelines.model import DocType, RootKey

PRODUCT_CHILDREN: dict[str, str] = {
    "commerce_product_translations": "product_id",
    "commerce_variants": "product_id",
    "commerce_variant_translations": "product_id",
    "commerce_prices": "product_id",
    "commerce_inventory_levels": "product_id",
    "commerce_product_categories": "product_id",
    "commerce_product_tags": "product_id",
}
# Every product table → the column naming its row's product.
PRODUCT_ROOT_COLUMNS: dict[str, str] = {"commerce_products": "id", **PRODUCT_CHILDREN}
CONTENT_CHILDREN: dict[str, str] = {
    "node_translations": "node_id",
    "node_bodies": "node_id",
    "node_tags": "node_id",
}
ROOT_KINDS = frozenset({"page", "post", "topic"})
CHILD_KINDS = frozenset({"comment", "reply"})

# Dimension table → the document types whose content it can change.
DIMENSIONS: dict[str, tuple[DocType, ...]] = {
    "tenants": ("product", "content"),
    "tenant_locales": ("product", "content"),
    "commerce_categories": ("product",),
    "commerce_category_translations": ("product",),
    "commerce_tags": ("product",),
    "content_categories": ("content",),
    "content_category_translations": ("content",),
    "content_tags": ("content",),
    "users": ("content",),
    "flex_schemas": ("product", "content"),
}

IGNORED = frozenset({
    "tenant_modules", "roles", "role_permissions", "user_roles", "commerce_orders",
    "commerce_order_lines", "commerce_price_lists", "outbox",
    # Debezium's signal table (contracts.signals): requests and snapshot-window markers
    # travel through the change stream but are not data.
    "rustok_signals",
})

ROOT_TABLES = frozenset({"commerce_products", "nodes", "flex_entries", *PRODUCT_CHILDREN, *CONTENT_CHILDREN})


def row_key(table: str, row_id: str) -> str:
    return f"{table}:{row_id}"


def root_group(doc_type: str, tenant_id: str, root_id: str) -> str:
    return f"root:{doc_type}:{tenant_id}:{root_id}"


def group_of_root(root: RootKey) -> str:
    return root_group(root.doc_type, str(root.tenant_id), str(root.id))


def tenant_roots_group(tenant_id: str) -> str:
    """The main rows (product, root node) of every root of a tenant."""
    return f"tenant-roots:{tenant_id}"


def locales_group(tenant_id: str) -> str:
    return f"locales:{tenant_id}"


def categories_group(tenant_id: str) -> str:
    return f"categories:{tenant_id}"


def translations_group(table: str, parent_id: str) -> str:
    return f"tr:{table}:{parent_id}"


def ref_group(table: str, row_id: str) -> str:
    """Rows that reference the dimension row ``table:row_id``."""
    return f"ref:{table}:{row_id}"


def root_address(table: str, row: dict[str, Any]) -> tuple[DocType, str, str] | None:
    """(doc type, tenant id, root id) of a root-table row, as strings; None if it has no root."""
    if table not in ROOT_TABLES:
        return None
    tenant = row["tenant_id"]
    column = PRODUCT_ROOT_COLUMNS.get(table)
    if column is not None:
        return "product", tenant, row[column]
    if table == "nodes":
        return "content", tenant, row["root_id"]
    column = CONTENT_CHILDREN.get(table)
    if column is not None:
        return "content", tenant, row[column]
    if table == "flex_entries":
        entity_type, entity_id = row.get("entity_type"), row.get("entity_id")
        if entity_id is None or entity_type not in ("product", "node"):
            return None
        return ("product" if entity_type == "product" else "content"), tenant, entity_id
    return None


_ROOT_KEYS: dict[tuple[DocType, str, str], RootKey] = {}
_ROOT_KEYS_MAX = 200_000


def root_key(address: tuple[DocType, str, str]) -> RootKey:
    """The RootKey of an address; cached because parsing UUIDs dominates routing otherwise."""
    key = _ROOT_KEYS.get(address)
    if key is None:
        if len(_ROOT_KEYS) >= _ROOT_KEYS_MAX:
            _ROOT_KEYS.clear()
        doc_type, tenant, root_id = address
        key = _ROOT_KEYS[address] = RootKey(doc_type, UUID(tenant), UUID(root_id))
    return key


def root_of(table: str, row: dict[str, Any]) -> RootKey | None:
    address = root_address(table, row)
    return None if address is None else root_key(address)


def groups_of(table: str, row: dict[str, Any]) -> tuple[str, ...]:
    """Every group a live row of ``table`` belongs to."""
    address = root_address(table, row)
    if address is not None:
        return root_row_groups(table, row, address)
    return _dimension_groups(table, row)


def root_row_groups(table: str, row: dict[str, Any], address: tuple[DocType, str, str]) -> tuple[str, ...]:
    """``groups_of`` a live row of a root table whose ``root_address`` is ``address``."""
    return (root_group(*address), *_root_row_refs(table, row, address[1]))


def _root_row_refs(table: str, row: dict[str, Any], tenant: str) -> tuple[str, ...]:
    if table == "commerce_products":
        return (tenant_roots_group(tenant),)
    if table == "commerce_product_categories":
        return (ref_group("commerce_categories", row["category_id"]),)
    if table == "commerce_product_tags":
        return (ref_group("commerce_tags", row["tag_id"]),)
    if table == "node_tags":
        return (ref_group("content_tags", row["tag_id"]),)
    if table == "flex_entries":
        return (ref_group("flex_schemas", row["schema_id"]),)
    if table == "nodes" and row["kind"] in ROOT_KINDS:
        refs = [tenant_roots_group(tenant)]
        if row.get("author_id") is not None:
            refs.append(ref_group("users", row["author_id"]))
        if row.get("category_id") is not None:
            refs.append(ref_group("content_categories", row["category_id"]))
        return tuple(refs)
    return ()


def _dimension_groups(table: str, row: dict[str, Any]) -> tuple[str, ...]:
    if table == "tenant_locales":
        return (locales_group(row["tenant_id"]),)
    if table == "commerce_categories":
        return (categories_group(row["tenant_id"]),)
    if table in ("commerce_category_translations", "content_category_translations"):
        parent = table.removesuffix("_translations").replace("_category", "_categories")
        return (translations_group(parent, row["category_id"]),)
    return ()
