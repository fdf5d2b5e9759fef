"""Hand-built Debezium change events for the projection core's tests.

:class:`Stream` keeps the current rows, so ``update`` can send a full ``before`` and
``after`` like REPLICA IDENTITY FULL does; every event gets the next LSN. Helpers such
as :meth:`Stream.product` create realistic rows with every contract column.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from contracts.envelope import ChangeEvent
from contracts.ids import new_id

TS = "2026-01-01T00:00:00Z"
_TIMESTAMPED = {"created_at", "updated_at"}

DEFAULTS: dict[str, dict[str, Any]] = {
    "tenants": {"status": "active", "settings": "{}", "created_at": TS, "updated_at": TS},
    "tenant_locales": {"enabled": True, "position": 0, "created_at": TS},
    "users": {"status": "active", "locale": None, "created_at": TS, "updated_at": TS},
    "commerce_products": {"status": "published", "vendor": None, "product_type": None, "discountable": True,
                          "metadata": "{}", "published_at": TS, "created_at": TS, "updated_at": TS},
    "commerce_product_translations": {"subtitle": None, "description": None, "meta_title": None,
                                      "meta_description": None, "created_at": TS, "updated_at": TS},
    "commerce_variants": {"sku": None, "barcode": None, "options": "{}", "inventory_policy": "deny",
                          "manage_inventory": True, "weight_grams": None, "position": 0, "created_at": TS,
                          "updated_at": TS},
    "commerce_variant_translations": {"options": "{}"},
    "commerce_prices": {"price_list_id": None, "compare_at_amount": None, "min_quantity": 1, "created_at": TS,
                        "updated_at": TS},
    "commerce_inventory_levels": {"location": "default", "reserved_quantity": 0, "updated_at": TS},
    "commerce_categories": {"parent_id": None, "position": 0, "created_at": TS, "updated_at": TS},
    "commerce_category_translations": {"description": None},
    "commerce_product_categories": {"position": 0},
    "content_categories": {"parent_id": None, "position": 0, "created_at": TS, "updated_at": TS},
    "content_category_translations": {"description": None},
    "nodes": {"status": "published", "parent_id": None, "author_id": None, "category_id": None, "position": 0,
              "depth": 0, "metadata": "{}", "published_at": TS, "created_at": TS, "updated_at": TS},
    "node_translations": {"title": None, "slug": None, "excerpt": None, "meta_title": None,
                          "meta_description": None, "created_at": TS, "updated_at": TS},
    "node_bodies": {"format": "markdown", "updated_at": TS},
    "flex_schemas": {"fields": '[{"name": "x", "type": "text"}]', "version": 1, "created_at": TS, "updated_at": TS},
    "flex_entries": {"schema_version": 1, "entity_type": None, "entity_id": None, "created_at": TS, "updated_at": TS},
    "commerce_price_lists": {"starts_at": None, "ends_at": None, "created_at": TS, "updated_at": TS},
    "commerce_orders": {"customer_id": None, "email": None, "status": "pending", "tax_total": 0,
                        "shipping_total": 0, "discount_total": 0, "shipping_address": None,
                        "billing_address": None, "metadata": "{}", "created_at": TS, "updated_at": TS},
}


def _jsonish(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


class Stream:
    """A source of change events with increasing LSNs and the rows they describe."""

    def __init__(self, start_lsn: int = 1_000, ts_ms: int = 1_767_225_600_000) -> None:
        self.lsn = start_lsn
        self.ts_ms = ts_ms
        self.events: list[ChangeEvent] = []
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}

    # -- raw events --------------------------------------------------------------------

    def event(self, table: str, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
              *, snapshot: bool = False, lsn: int | None = None) -> ChangeEvent:
        if lsn is None:
            self.lsn += 8
            self.ts_ms += 1
        source = {
            "version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": self.ts_ms,
            "snapshot": "true" if snapshot else "false",
            "db": "rustok", "sequence": None, "schema": "public",
            "table": table, "txId": 1, "lsn": self.lsn if lsn is None else lsn, "xmin": None,
        }
        event = ChangeEvent.model_validate({"before": before, "after": after, "source": source, "op": op,
                                            "ts_ms": self.ts_ms})
        self.events.append(event)
        return event

    def create(self, table: str, *, snapshot: bool = False, **fields: Any) -> dict[str, Any]:
        row = {"id": str(new_id()), **DEFAULTS.get(table, {}), **{k: _jsonish(v) for k, v in fields.items()}}
        self.rows[(table, row["id"])] = row
        self.event(table, "r" if snapshot else "c", None, dict(row), snapshot=snapshot)
        return row

    def incremental_read(self, table: str, row_id: str) -> ChangeEvent:
        """The row as an incremental snapshot reads it now, shaped as Debezium 3.2.7 sends it:
        op ``r``, snapshot ``incremental``, no ``lsn``/``txId``, the close marker's sequence."""
        self.lsn += 8
        self.ts_ms += 1
        source = {
            "version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": self.ts_ms,
            "snapshot": "incremental", "db": "rustok", "sequence": f'["{self.lsn}","{self.lsn}"]',
            "schema": "public", "table": table, "txId": None, "lsn": None, "xmin": None,
        }
        event = ChangeEvent.model_validate({"before": None, "after": dict(self.rows[(table, row_id)]),
                                            "source": source, "op": "r", "ts_ms": self.ts_ms})
        self.events.append(event)
        return event

    def update(self, table: str, row_id: str, **changes: Any) -> dict[str, Any]:
        before = self.rows[(table, row_id)]
        after = {**before, **{k: _jsonish(v) for k, v in changes.items()}}
        self.rows[(table, row_id)] = after
        self.event(table, "u", dict(before), dict(after))
        return after

    def delete(self, table: str, row_id: str) -> None:
        before = self.rows.pop((table, row_id))
        self.event(table, "d", dict(before), None)

    def truncate(self, table: str) -> None:
        for key in [k for k in self.rows if k[0] == table]:
            del self.rows[key]
        self.event(table, "t", None, None)

    # -- domain helpers ----------------------------------------------------------------

    def tenant(self, slug: str = "shop", locales: tuple[str, ...] = ("en", "de", "ru"), default: str = "en") -> str:
        tenant = self.create("tenants", slug=slug, name=slug.title(), default_locale=default)["id"]
        for position, locale in enumerate(locales):
            self.create("tenant_locales", tenant_id=tenant, locale=locale, position=position)
        return str(tenant)

    def category(self, tenant: str, handle: str, names: dict[str, str], parent: str | None = None) -> str:
        category = self.create("commerce_categories", tenant_id=tenant, handle=handle, parent_id=parent)["id"]
        for locale, name in names.items():
            self.create("commerce_category_translations", tenant_id=tenant, category_id=category, locale=locale,
                        name=name)
        return str(category)

    def tag(self, tenant: str, slug: str, name: str, table: str = "commerce_tags") -> str:
        return str(self.create(table, tenant_id=tenant, slug=slug, name=name)["id"])

    def product(self, tenant: str, handle: str, titles: dict[str, str], **fields: Any) -> str:
        product = self.create("commerce_products", tenant_id=tenant, handle=handle, **fields)["id"]
        for locale, title in titles.items():
            self.create("commerce_product_translations", tenant_id=tenant, product_id=product, locale=locale,
                        title=title, description=f"{title} description")
        return str(product)

    def variant(self, tenant: str, product: str, sku: str, options: dict[str, str], position: int = 0,
                prices: dict[str, int] | None = None, stock: int | None = None, **fields: Any) -> str:
        variant = str(self.create("commerce_variants", tenant_id=tenant, product_id=product, sku=sku,
                                  options=options, position=position, **fields)["id"])
        for currency, amount in (prices or {}).items():
            self.price(tenant, product, variant, currency, amount)
        if stock is not None:
            self.create("commerce_inventory_levels", tenant_id=tenant, product_id=product, variant_id=variant,
                        stocked_quantity=stock)
        return variant

    def price(self, tenant: str, product: str, variant: str, currency: str, amount: int, **fields: Any) -> str:
        return str(self.create("commerce_prices", tenant_id=tenant, product_id=product, variant_id=variant,
                               currency_code=currency, amount=amount, **fields)["id"])

    def link_category(self, tenant: str, product: str, category: str, position: int = 0) -> str:
        return str(self.create("commerce_product_categories", tenant_id=tenant, product_id=product,
                               category_id=category, position=position)["id"])

    def link_tag(self, tenant: str, product: str, tag: str) -> str:
        return str(self.create("commerce_product_tags", tenant_id=tenant, product_id=product, tag_id=tag)["id"])

    def user(self, tenant: str, name: str) -> str:
        return str(self.create("users", tenant_id=tenant, email=f"{name.split()[0].lower()}@example.com",
                               display_name=name)["id"])

    def node(self, tenant: str, kind: str, texts: dict[str, tuple[str, str, str]], *, body_format: str = "markdown",
             **fields: Any) -> str:
        """A root node with, per locale, (title, slug, body); the excerpt is the body's first line."""
        node_id = str(new_id())
        self.create("nodes", id=node_id, tenant_id=tenant, kind=kind, root_id=node_id, **fields)
        for locale, (title, slug, body) in texts.items():
            self.create("node_translations", tenant_id=tenant, node_id=node_id, locale=locale, title=title,
                        slug=slug, excerpt=body.splitlines()[0])
            self.create("node_bodies", tenant_id=tenant, node_id=node_id, locale=locale, body=body,
                        format=body_format)
        return node_id

    def reply(self, tenant: str, root: str, kind: str = "comment", parent: str | None = None, **fields: Any) -> str:
        fields = {"depth": 1, **fields}
        return str(self.create("nodes", tenant_id=tenant, kind=kind, root_id=root, parent_id=parent or root,
                               **fields)["id"])

    def flex(self, tenant: str, slug: str, entity_type: str, entity_id: str, data: dict[str, Any]) -> str:
        schema = self.create("flex_schemas", tenant_id=tenant, slug=slug, name=slug.title())["id"]
        return str(self.create("flex_entries", tenant_id=tenant, schema_id=schema, entity_type=entity_type,
                               entity_id=entity_id, data=data)["id"])
