"""Tables captured by change data capture, in the publication ``rustok_cdc``.

Secrets (credentials, tokens, API keys) are deliberately absent: they never leave
PostgreSQL.
"""

from __future__ import annotations

PUBLICATION = "rustok_cdc"

CAPTURED_TABLES: tuple[str, ...] = (
    "tenants",
    "tenant_locales",
    "tenant_modules",
    "users",
    "roles",
    "role_permissions",
    "user_roles",
    "content_categories",
    "content_category_translations",
    "content_tags",
    "nodes",
    "node_translations",
    "node_bodies",
    "node_tags",
    "commerce_products",
    "commerce_product_translations",
    "commerce_variants",
    "commerce_variant_translations",
    "commerce_price_lists",
    "commerce_prices",
    "commerce_inventory_levels",
    "commerce_categories",
    "commerce_category_translations",
    "commerce_product_categories",
    "commerce_tags",
    "commerce_product_tags",
    "commerce_orders",
    "commerce_order_lines",
    "flex_schemas",
    "flex_entries",
    "outbox",
)

UNCAPTURED_TABLES: tuple[str, ...] = ("user_credentials", "refresh_tokens", "api_keys")
