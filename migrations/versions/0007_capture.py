"""capture: REPLICA IDENTITY FULL on captured tables and the publication rustok_cdc

Revision ID: 0007
Revises: 0006

Updates and deletes carry the whole old row. Credentials, refresh tokens and API keys
are left out of the publication so secrets never reach the change streams. The list
is frozen here; a later migration that adds a captured table alters the publication.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CAPTURED = (
    "tenants", "tenant_locales", "tenant_modules", "users", "roles", "role_permissions", "user_roles",
    "content_categories", "content_category_translations", "content_tags", "nodes", "node_translations",
    "node_bodies", "node_tags",
    "commerce_products", "commerce_product_translations", "commerce_variants", "commerce_variant_translations",
    "commerce_price_lists", "commerce_prices", "commerce_inventory_levels", "commerce_categories",
    "commerce_category_translations", "commerce_product_categories", "commerce_tags", "commerce_product_tags",
    "commerce_orders", "commerce_order_lines",
    "flex_schemas", "flex_entries",
    "outbox",
)


def upgrade() -> None:
    for table in CAPTURED:
        op.execute(f"ALTER TABLE {table} REPLICA IDENTITY FULL")
    op.execute(
        f"CREATE PUBLICATION rustok_cdc FOR TABLE {', '.join(CAPTURED)}"
        " WITH (publish = 'insert, update, delete, truncate')"
    )


def downgrade() -> None:
    op.execute("DROP PUBLICATION IF EXISTS rustok_cdc")
    for table in CAPTURED:
        op.execute(f"ALTER TABLE {table} REPLICA IDENTITY DEFAULT")
