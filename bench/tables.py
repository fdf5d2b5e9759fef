"""Rows collected per write-model table and written with COPY, parents before children.

Each table lists the columns the generator writes and the value of any column a row
leaves out (the schema's own default, written explicitly because one COPY has one
column list). The order of ``TABLES`` is a foreign-key order.
"""

from __future__ import annotations

from typing import Any

import psycopg


TABLES: dict[str, dict[str, Any]] = {
    "tenants": {"id": None, "slug": None, "name": None, "default_locale": None},
    "tenant_locales": {"id": None, "tenant_id": None, "locale": None, "position": 0},
    "commerce_categories": {"id": None, "tenant_id": None, "parent_id": None, "handle": None, "position": 0},
    "commerce_category_translations": {"id": None, "tenant_id": None, "category_id": None, "locale": None,
                                       "name": None, "description": None},
    "commerce_tags": {"id": None, "tenant_id": None, "slug": None, "name": None},
    "commerce_price_lists": {"id": None, "tenant_id": None, "slug": None, "name": None},
    "content_categories": {"id": None, "tenant_id": None, "slug": None, "position": 0},
    "content_category_translations": {"id": None, "tenant_id": None, "category_id": None, "locale": None,
                                      "name": None},
    "content_tags": {"id": None, "tenant_id": None, "slug": None, "name": None},
    "commerce_products": {"id": None, "tenant_id": None, "handle": None, "status": None, "vendor": None,
                          "product_type": None, "published_at": None},
    "commerce_product_translations": {"id": None, "tenant_id": None, "product_id": None, "locale": None,
                                      "title": None, "subtitle": None, "description": None},
    "commerce_variants": {"id": None, "tenant_id": None, "product_id": None, "sku": None, "options": "{}",
                          "weight_grams": None, "inventory_policy": "deny", "position": 0},
    "commerce_variant_translations": {"id": None, "tenant_id": None, "product_id": None, "variant_id": None,
                                      "locale": None, "title": None},
    "commerce_prices": {"id": None, "tenant_id": None, "product_id": None, "variant_id": None,
                        "price_list_id": None, "currency_code": None, "amount": None, "compare_at_amount": None,
                        "min_quantity": 1},
    "commerce_inventory_levels": {"id": None, "tenant_id": None, "product_id": None, "variant_id": None,
                                  "location": "default", "stocked_quantity": 0, "reserved_quantity": 0},
    "commerce_product_categories": {"id": None, "tenant_id": None, "product_id": None, "category_id": None,
                                    "position": 0},
    "commerce_product_tags": {"id": None, "tenant_id": None, "product_id": None, "tag_id": None},
    "nodes": {"id": None, "tenant_id": None, "kind": None, "status": "draft", "parent_id": None, "root_id": None,
              "category_id": None, "position": 0, "depth": 0, "published_at": None},
    "node_translations": {"id": None, "tenant_id": None, "node_id": None, "locale": None, "title": None,
                          "slug": None, "excerpt": None},
    "node_bodies": {"id": None, "tenant_id": None, "node_id": None, "locale": None, "body": None},
    "node_tags": {"id": None, "tenant_id": None, "node_id": None, "tag_id": None},
}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Rows:
    """COPY text lines per table, in the order rows were added (a parent comes before its
    children within one table, e.g. a post before its comments)."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {table: [] for table in TABLES}

    def add(self, table: str, **values: Any) -> None:
        spec = TABLES[table]
        unknown = values.keys() - spec.keys()
        if unknown:
            raise KeyError(f"{table} has no generated column {sorted(unknown)}")
        self.lines[table].append("\t".join(_text(values.get(column, default)) for column, default in spec.items()))

    def clear(self) -> None:
        for lines in self.lines.values():
            lines.clear()


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(_ESCAPES)


def copy_rows(conn: psycopg.Connection[Any], rows: Rows) -> dict[str, int]:
    """COPY every table's lines, in foreign-key order; returns rows written per table."""
    written: dict[str, int] = {}
    with conn.cursor() as cursor:
        for table, spec in TABLES.items():
            lines = rows.lines[table]
            if not lines:
                continue
            with cursor.copy(f"COPY {table} ({', '.join(spec)}) FROM STDIN") as copy:
                for start in range(0, len(lines), 2_000):
                    copy.write("\n".join(lines[start:start + 2_000]) + "\n")
            written[table] = len(lines)
    return written
