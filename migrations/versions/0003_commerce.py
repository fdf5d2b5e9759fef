"""commerce: products, variants, prices, inventory, categories, tags and orders

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('commerce_categories',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('handle', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 128", name=op.f('ck_commerce_categories_handle_format')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_commerce_categories_not_own_parent')),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['commerce_categories.tenant_id', 'commerce_categories.id'], name=op.f('fk_commerce_categories_tenant_id_parent_id_commerce_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_categories_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_categories')),
    sa.UniqueConstraint('tenant_id', 'handle', name=op.f('uq_commerce_categories_tenant_id_handle')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_categories_tenant_id_id')
    )
    op.create_table('commerce_price_lists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_commerce_price_lists_slug_format')),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at', name=op.f('ck_commerce_price_lists_valid_period')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 200', name=op.f('ck_commerce_price_lists_name_length')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_price_lists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_price_lists')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_price_lists_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_commerce_price_lists_tenant_id_slug'))
    )
    op.create_table('commerce_products',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('handle', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('product_type', sa.String(length=200), nullable=True),
    sa.Column('discountable', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 128", name=op.f('ck_commerce_products_handle_format')),
    sa.CheckConstraint("jsonb_typeof(metadata) = 'object'", name=op.f('ck_commerce_products_metadata_is_object')),
    sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name=op.f('ck_commerce_products_published_has_date')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_commerce_products_status_valid')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_products_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_products')),
    sa.UniqueConstraint('tenant_id', 'handle', name=op.f('uq_commerce_products_tenant_id_handle')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_products_tenant_id_id')
    )
    op.create_index('ix_commerce_products_tenant_id_status', 'commerce_products', ['tenant_id', 'status'], unique=False)
    op.create_table('commerce_tags',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_commerce_tags_slug_format')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 100', name=op.f('ck_commerce_tags_name_length')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_tags_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_tags')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_tags_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_commerce_tags_tenant_id_slug'))
    )
    op.create_table('commerce_category_translations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_commerce_category_translations_locale_format')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 200', name=op.f('ck_commerce_category_translations_name_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['commerce_categories.tenant_id', 'commerce_categories.id'], name=op.f('fk_commerce_category_translations_tenant_id_category_id_commerce_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_category_translations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_category_translations')),
    sa.UniqueConstraint('category_id', 'locale', name=op.f('uq_commerce_category_translations_category_id_locale'))
    )
    op.create_table('commerce_orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('currency_code', sa.CHAR(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('shipping_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('discount_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('shipping_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('billing_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency_code ~ '^[A-Z]{3}$'", name=op.f('ck_commerce_orders_currency_code_format')),
    sa.CheckConstraint("jsonb_typeof(metadata) = 'object'", name=op.f('ck_commerce_orders_metadata_is_object')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded')", name=op.f('ck_commerce_orders_status_valid')),
    sa.CheckConstraint('discount_total >= 0', name=op.f('ck_commerce_orders_discount_total_non_negative')),
    sa.CheckConstraint('number > 0', name=op.f('ck_commerce_orders_number_positive')),
    sa.CheckConstraint('shipping_total >= 0', name=op.f('ck_commerce_orders_shipping_total_non_negative')),
    sa.CheckConstraint('subtotal >= 0', name=op.f('ck_commerce_orders_subtotal_non_negative')),
    sa.CheckConstraint('tax_total >= 0', name=op.f('ck_commerce_orders_tax_total_non_negative')),
    sa.CheckConstraint('total = subtotal + tax_total + shipping_total - discount_total', name=op.f('ck_commerce_orders_total_adds_up')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_commerce_orders_total_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_commerce_orders_tenant_id_customer_id_users'), ondelete='SET NULL (customer_id)'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_orders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_orders')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_orders_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_commerce_orders_tenant_id_number'))
    )
    op.create_table('commerce_product_categories',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['commerce_categories.tenant_id', 'commerce_categories.id'], name=op.f('fk_commerce_product_categories_tenant_id_category_id_commerce_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['commerce_products.tenant_id', 'commerce_products.id'], name=op.f('fk_commerce_product_categories_tenant_id_product_id_commerce_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_product_categories_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_product_categories')),
    sa.UniqueConstraint('product_id', 'category_id', name=op.f('uq_commerce_product_categories_product_id_category_id'))
    )
    op.create_index('ix_commerce_product_categories_category_id', 'commerce_product_categories', ['category_id'], unique=False)
    op.create_table('commerce_product_tags',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('tag_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['commerce_products.tenant_id', 'commerce_products.id'], name=op.f('fk_commerce_product_tags_tenant_id_product_id_commerce_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'tag_id'], ['commerce_tags.tenant_id', 'commerce_tags.id'], name=op.f('fk_commerce_product_tags_tenant_id_tag_id_commerce_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_product_tags_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_product_tags')),
    sa.UniqueConstraint('product_id', 'tag_id', name=op.f('uq_commerce_product_tags_product_id_tag_id'))
    )
    op.create_index('ix_commerce_product_tags_tag_id', 'commerce_product_tags', ['tag_id'], unique=False)
    op.create_table('commerce_product_translations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('subtitle', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('meta_title', sa.String(length=300), nullable=True),
    sa.Column('meta_description', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_commerce_product_translations_locale_format')),
    sa.CheckConstraint('length(btrim(title)) > 0 AND length(title) <= 300', name=op.f('ck_commerce_product_translations_title_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['commerce_products.tenant_id', 'commerce_products.id'], name=op.f('fk_commerce_product_translations_tenant_id_product_id_commerce_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_product_translations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_product_translations')),
    sa.UniqueConstraint('product_id', 'locale', name=op.f('uq_commerce_product_translations_product_id_locale'))
    )
    op.create_table('commerce_variants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('barcode', sa.String(length=64), nullable=True),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('inventory_policy', sa.String(length=16), server_default='deny', nullable=False),
    sa.Column('manage_inventory', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("inventory_policy IN ('deny', 'continue')", name=op.f('ck_commerce_variants_inventory_policy_valid')),
    sa.CheckConstraint("jsonb_typeof(options) = 'object'", name=op.f('ck_commerce_variants_options_is_object')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_commerce_variants_position_non_negative')),
    sa.CheckConstraint('sku IS NULL OR (length(btrim(sku)) > 0 AND length(sku) <= 64)', name=op.f('ck_commerce_variants_sku_length')),
    sa.CheckConstraint('weight_grams >= 0', name=op.f('ck_commerce_variants_weight_grams_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['commerce_products.tenant_id', 'commerce_products.id'], name=op.f('fk_commerce_variants_tenant_id_product_id_commerce_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_variants_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_variants')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_commerce_variants_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'product_id', 'id', name='uq_commerce_variants_tenant_product_id')
    )
    op.create_index('ix_commerce_variants_product_id', 'commerce_variants', ['product_id'], unique=False)
    op.create_index('uq_commerce_variants_tenant_id_sku', 'commerce_variants', ['tenant_id', 'sku'], unique=True, postgresql_where=sa.text('sku IS NOT NULL'))
    op.create_table('commerce_inventory_levels',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('variant_id', sa.Uuid(), nullable=False),
    sa.Column('location', sa.String(length=128), server_default='default', nullable=False),
    sa.Column('stocked_quantity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved_quantity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("location ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(location) <= 128", name=op.f('ck_commerce_inventory_levels_location_format')),
    sa.CheckConstraint('reserved_quantity <= stocked_quantity', name=op.f('ck_commerce_inventory_levels_reserved_within_stock')),
    sa.CheckConstraint('reserved_quantity >= 0', name=op.f('ck_commerce_inventory_levels_reserved_quantity_non_negative')),
    sa.CheckConstraint('stocked_quantity >= 0', name=op.f('ck_commerce_inventory_levels_stocked_quantity_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id', 'variant_id'], ['commerce_variants.tenant_id', 'commerce_variants.product_id', 'commerce_variants.id'], name=op.f('fk_commerce_inventory_levels_tenant_id_product_id_variant_id_commerce_variants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_inventory_levels_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_inventory_levels')),
    sa.UniqueConstraint('variant_id', 'location', name=op.f('uq_commerce_inventory_levels_variant_id_location'))
    )
    op.create_index('ix_commerce_inventory_levels_product_id', 'commerce_inventory_levels', ['product_id'], unique=False)
    op.create_table('commerce_order_lines',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=True),
    sa.Column('variant_id', sa.Uuid(), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('currency_code', sa.CHAR(length=3), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("currency_code ~ '^[A-Z]{3}$'", name=op.f('ck_commerce_order_lines_currency_code_format')),
    sa.CheckConstraint('length(btrim(title)) > 0 AND length(title) <= 300', name=op.f('ck_commerce_order_lines_title_length')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_commerce_order_lines_quantity_positive')),
    sa.CheckConstraint('total = quantity * unit_price', name=op.f('ck_commerce_order_lines_total_adds_up')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_commerce_order_lines_unit_price_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['commerce_orders.tenant_id', 'commerce_orders.id'], name=op.f('fk_commerce_order_lines_tenant_id_order_id_commerce_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['commerce_products.tenant_id', 'commerce_products.id'], name=op.f('fk_commerce_order_lines_tenant_id_product_id_commerce_products'), ondelete='SET NULL (product_id)'),
    sa.ForeignKeyConstraint(['tenant_id', 'variant_id'], ['commerce_variants.tenant_id', 'commerce_variants.id'], name=op.f('fk_commerce_order_lines_tenant_id_variant_id_commerce_variants'), ondelete='SET NULL (variant_id)'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_order_lines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_order_lines'))
    )
    op.create_index('ix_commerce_order_lines_order_id', 'commerce_order_lines', ['order_id'], unique=False)
    op.create_table('commerce_prices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('variant_id', sa.Uuid(), nullable=False),
    sa.Column('price_list_id', sa.Uuid(), nullable=True),
    sa.Column('currency_code', sa.CHAR(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('compare_at_amount', sa.BigInteger(), nullable=True),
    sa.Column('min_quantity', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency_code ~ '^[A-Z]{3}$'", name=op.f('ck_commerce_prices_currency_code_format')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_commerce_prices_amount_non_negative')),
    sa.CheckConstraint('compare_at_amount IS NULL OR compare_at_amount >= 0', name=op.f('ck_commerce_prices_compare_at_amount_non_negative')),
    sa.CheckConstraint('min_quantity >= 1', name=op.f('ck_commerce_prices_min_quantity_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'price_list_id'], ['commerce_price_lists.tenant_id', 'commerce_price_lists.id'], name=op.f('fk_commerce_prices_tenant_id_price_list_id_commerce_price_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id', 'variant_id'], ['commerce_variants.tenant_id', 'commerce_variants.product_id', 'commerce_variants.id'], name=op.f('fk_commerce_prices_tenant_id_product_id_variant_id_commerce_variants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_prices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_prices')),
    sa.UniqueConstraint('variant_id', 'currency_code', 'price_list_id', 'min_quantity', name=op.f('uq_commerce_prices_variant_id_currency_code_price_list_id_min_quantity'), postgresql_nulls_not_distinct=True)
    )
    op.create_index('ix_commerce_prices_product_id', 'commerce_prices', ['product_id'], unique=False)
    op.create_table('commerce_variant_translations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('variant_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.CheckConstraint("jsonb_typeof(options) = 'object'", name=op.f('ck_commerce_variant_translations_options_is_object')),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_commerce_variant_translations_locale_format')),
    sa.CheckConstraint('length(btrim(title)) > 0 AND length(title) <= 300', name=op.f('ck_commerce_variant_translations_title_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id', 'variant_id'], ['commerce_variants.tenant_id', 'commerce_variants.product_id', 'commerce_variants.id'], name=op.f('fk_commerce_variant_translations_tenant_id_product_id_variant_id_commerce_variants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commerce_variant_translations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_variant_translations')),
    sa.UniqueConstraint('variant_id', 'locale', name=op.f('uq_commerce_variant_translations_variant_id_locale'))
    )


def downgrade() -> None:
    op.drop_table('commerce_variant_translations')
    op.drop_index('ix_commerce_prices_product_id', table_name='commerce_prices')
    op.drop_table('commerce_prices')
    op.drop_index('ix_commerce_order_lines_order_id', table_name='commerce_order_lines')
    op.drop_table('commerce_order_lines')
    op.drop_index('ix_commerce_inventory_levels_product_id', table_name='commerce_inventory_levels')
    op.drop_table('commerce_inventory_levels')
    op.drop_index('uq_commerce_variants_tenant_id_sku', table_name='commerce_variants', postgresql_where=sa.text('sku IS NOT NULL'))
    op.drop_index('ix_commerce_variants_product_id', table_name='commerce_variants')
    op.drop_table('commerce_variants')
    op.drop_table('commerce_product_translations')
    op.drop_index('ix_commerce_product_tags_tag_id', table_name='commerce_product_tags')
    op.drop_table('commerce_product_tags')
    op.drop_index('ix_commerce_product_categories_category_id', table_name='commerce_product_categories')
    op.drop_table('commerce_product_categories')
    op.drop_table('commerce_orders')
    op.drop_table('commerce_category_translations')
    op.drop_table('commerce_tags')
    op.drop_index('ix_commerce_products_tenant_id_status', table_name='commerce_products')
    op.drop_table('commerce_products')
    op.drop_table('commerce_price_lists')
    op.drop_table('commerce_categories')
