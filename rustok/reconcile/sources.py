"""Reading both sides with SQL: the documents the write model implies, and the live documents."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from contracts.expectations.read_rows import ENABLED_LOCALES
from rustok.reconcile.compare import DocKey, Drift, Fields, compare

# The translation the projector picks for a locale: the locale, its language, the tenant
# default, else the first by tag (byte order, as Python's min on strings).
_PICK = """ORDER BY CASE WHEN tr.locale = e.locale THEN 0 WHEN tr.locale = split_part(e.locale, '-', 1) THEN 1
                   WHEN tr.locale = t.default_locale THEN 2 ELSE 3 END, tr.locale COLLATE "C" LIMIT 1"""

_PRICES = """(SELECT coalesce(jsonb_agg(jsonb_build_array(currency, lo, hi) ORDER BY currency), '[]'::jsonb)
  FROM (SELECT currency_code AS currency, min(amount) AS lo, max(amount) AS hi
        FROM (SELECT pr.variant_id, pr.currency_code, min(pr.amount) AS amount
              FROM commerce_prices pr JOIN commerce_variants v ON v.id = pr.variant_id AND v.tenant_id = pr.tenant_id
              WHERE pr.product_id = p.id AND pr.tenant_id = p.tenant_id
                AND pr.price_list_id IS NULL AND pr.min_quantity = 1
              GROUP BY pr.variant_id, pr.currency_code) per_variant
        GROUP BY currency_code) ranges)"""

# Available quantity per variant: stocked minus reserved, never below zero, summed over locations.
_AVAILABLE = """(SELECT coalesce(sum(greatest(l.stocked_quantity - l.reserved_quantity, 0)), 0)
  FROM commerce_inventory_levels l WHERE l.variant_id = v.id AND l.product_id = p.id)"""

_STOCK = f"""(SELECT coalesce(sum({_AVAILABLE}), 0)::bigint FROM commerce_variants v
  WHERE v.product_id = p.id AND v.tenant_id = p.tenant_id),
 EXISTS (SELECT 1 FROM commerce_variants v WHERE v.product_id = p.id AND v.tenant_id = p.tenant_id
         AND (NOT v.manage_inventory OR v.inventory_policy = 'continue' OR {_AVAILABLE} > 0)),
 (SELECT coalesce(jsonb_agg(v.sku ORDER BY v.position, v.id), '[]'::jsonb) FROM commerce_variants v
  WHERE v.product_id = p.id AND v.tenant_id = p.tenant_id AND v.sku IS NOT NULL)"""

_PRODUCT_TAGS = """(SELECT coalesce(jsonb_agg(tg.slug ORDER BY tg.slug COLLATE "C"), '[]'::jsonb)
  FROM commerce_product_tags pt JOIN commerce_tags tg ON tg.id = pt.tag_id AND tg.tenant_id = p.tenant_id
  WHERE pt.product_id = p.id AND pt.tenant_id = p.tenant_id)"""

EXPECTED_PRODUCTS = f"""
SELECT p.tenant_id::text, e.locale, p.id::text, p.handle, p.status, p.vendor, p.product_type,
       coalesce(tr.title, p.handle), coalesce(tr.locale, t.default_locale), {_PRICES}, {_STOCK}, {_PRODUCT_TAGS}
FROM commerce_products p JOIN tenants t ON t.id = p.tenant_id JOIN {ENABLED_LOCALES} e ON e.tenant_id = p.tenant_id
LEFT JOIN LATERAL (SELECT tr.title, tr.locale FROM commerce_product_translations tr
                   WHERE tr.product_id = p.id AND tr.tenant_id = p.tenant_id {_PICK}) tr ON TRUE
WHERE %(tenant)s::uuid IS NULL OR p.tenant_id = %(tenant)s::uuid"""

ACTUAL_PRODUCTS = """
SELECT r.tenant_id::text, r.locale, r.product_id::text, d->>'handle', d->>'status', d->>'vendor', d->>'product_type',
       d->>'title', d->>'resolved_locale',
       (SELECT coalesce(jsonb_agg(jsonb_build_array(x->>'currency', x->'min', x->'max') ORDER BY x->>'currency'),
                        '[]'::jsonb)
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'prices') = 'array' THEN d->'prices'
                                       ELSE '[]'::jsonb END) x),
       d->'total_stock', d->'in_stock', d->'skus', d->'tag_slugs'
FROM index_products r CROSS JOIN LATERAL (SELECT r.document AS d) doc
WHERE r.index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = 'product')
  AND (%(tenant)s::uuid IS NULL OR r.tenant_id = %(tenant)s::uuid)"""

_CONTENT_TAGS = """(SELECT coalesce(jsonb_agg(tg.slug ORDER BY tg.slug COLLATE "C"), '[]'::jsonb)
  FROM node_tags nt JOIN content_tags tg ON tg.id = nt.tag_id AND tg.tenant_id = n.tenant_id
  WHERE nt.node_id = n.id AND nt.tenant_id = n.tenant_id)"""

EXPECTED_CONTENT = f"""
SELECT n.tenant_id::text, e.locale, n.id::text, n.kind, n.status, tr.slug, tr.title,
       coalesce(tr.locale, t.default_locale), {_CONTENT_TAGS},
       (SELECT u.display_name FROM users u WHERE u.id = n.author_id AND u.tenant_id = n.tenant_id)
FROM nodes n JOIN tenants t ON t.id = n.tenant_id JOIN {ENABLED_LOCALES} e ON e.tenant_id = n.tenant_id
LEFT JOIN LATERAL (SELECT tr.title, tr.slug, tr.locale FROM node_translations tr
                   WHERE tr.node_id = n.id AND tr.tenant_id = n.tenant_id {_PICK}) tr ON TRUE
WHERE n.kind IN ('page', 'post', 'topic') AND (%(tenant)s::uuid IS NULL OR n.tenant_id = %(tenant)s::uuid)"""

ACTUAL_CONTENT = """
SELECT r.tenant_id::text, r.locale, r.node_id::text, r.document->>'kind', r.document->>'status',
       r.document->>'slug', r.document->>'title', r.document->>'resolved_locale', r.document->'tag_slugs',
       r.document->>'author_name'
FROM index_content r
WHERE r.index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = 'content')
  AND (%(tenant)s::uuid IS NULL OR r.tenant_id = %(tenant)s::uuid)"""

PRODUCT_FIELDS = ("handle", "status", "vendor", "product_type", "title", "resolved_locale", "prices",
                  "total_stock", "in_stock", "skus", "tag_slugs")
CONTENT_FIELDS = ("kind", "status", "slug", "title", "resolved_locale", "tag_slugs", "author_name")


def _read(conn: psycopg.Connection[Any], query: str, doc_type: str, names: tuple[str, ...],
          tenant: UUID | None) -> dict[DocKey, Fields]:
    rows = conn.execute(sql.SQL(query), {"tenant": tenant}).fetchall()
    return {DocKey(doc_type, row[0], row[1], row[2]): dict(zip(names, row[3:], strict=True)) for row in rows}


def read_expected(database_url: str, tenant: UUID | None = None) -> dict[DocKey, Fields]:
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return {**_read(conn, EXPECTED_PRODUCTS, "product", PRODUCT_FIELDS, tenant),
                **_read(conn, EXPECTED_CONTENT, "content", CONTENT_FIELDS, tenant)}


def read_actual(database_url: str, tenant: UUID | None = None) -> dict[DocKey, Fields]:
    with psycopg.connect(database_url) as conn:
        return {**_read(conn, ACTUAL_PRODUCTS, "product", PRODUCT_FIELDS, tenant),
                **_read(conn, ACTUAL_CONTENT, "content", CONTENT_FIELDS, tenant)}


def reconcile(database_url: str, tenant: UUID | None = None) -> Drift:
    """The drift between the write model and the live read model, for one tenant or all."""
    return compare(read_expected(database_url, tenant), read_actual(database_url, tenant))
