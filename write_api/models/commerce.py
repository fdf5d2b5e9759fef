"""Commerce: products, variants, prices, inventory, categories, tags, orders.

Children carry the product id (a price has ``product_id`` as well as ``variant_id``),
so every change event maps to its product without a lookup; composite foreign keys
make the pair consistent and keep it inside one tenant.
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
    currency_check,
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

PRODUCT_STATUSES = ("draft", "published", "archived")
INVENTORY_POLICIES = ("deny", "continue")
ORDER_STATUSES = ("pending", "paid", "fulfilled", "cancelled", "refunded")


class Product(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_products"
    __table_args__ = (
        tenant_unique("commerce_products"),
        sa.UniqueConstraint("tenant_id", "handle"),
        slug_check("handle"),
        one_of("status", PRODUCT_STATUSES),
        sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_has_date"),
        json_object("metadata"),
        sa.Index("ix_commerce_products_tenant_id_status", "tenant_id", "status"),
    )

    handle: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="draft")
    vendor: Mapped[str | None] = mapped_column(sa.String(200))
    product_type: Mapped[str | None] = mapped_column(sa.String(200))
    discountable: Mapped[bool] = mapped_column(server_default=sa.true())
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=jsonb_default())
    published_at: Mapped[datetime | None]


class ProductTranslation(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_product_translations"
    __table_args__ = (
        tenant_fk(["product_id"], "commerce_products", ["id"]),
        sa.UniqueConstraint("product_id", "locale"),
        locale_check(),
        not_blank("title", 300),
    )

    product_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    title: Mapped[str] = mapped_column(sa.String(300))
    subtitle: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    meta_title: Mapped[str | None] = mapped_column(sa.String(300))
    meta_description: Mapped[str | None] = mapped_column(sa.String(500))


class Variant(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_variants"
    __table_args__ = (
        tenant_unique("commerce_variants"),
        sa.UniqueConstraint("tenant_id", "product_id", "id", name="uq_commerce_variants_tenant_product_id"),
        tenant_fk(["product_id"], "commerce_products", ["id"]),
        sa.Index("uq_commerce_variants_tenant_id_sku", "tenant_id", "sku", unique=True,
                 postgresql_where=sa.text("sku IS NOT NULL")),
        sa.CheckConstraint("sku IS NULL OR (length(btrim(sku)) > 0 AND length(sku) <= 64)", name="sku_length"),
        one_of("inventory_policy", INVENTORY_POLICIES),
        json_object("options"),
        *non_negative("weight_grams", "position"),
        sa.Index("ix_commerce_variants_product_id", "product_id"),
    )

    product_id: Mapped[UUID]
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    barcode: Mapped[str | None] = mapped_column(sa.String(64))
    options: Mapped[dict[str, Any]] = mapped_column(server_default=jsonb_default())
    inventory_policy: Mapped[str] = mapped_column(sa.String(16), server_default="deny")
    manage_inventory: Mapped[bool] = mapped_column(server_default=sa.true())
    weight_grams: Mapped[int | None]
    position: Mapped[int] = mapped_column(server_default="0")


class VariantTranslation(TenantRow, Base):
    __tablename__ = "commerce_variant_translations"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id", "variant_id"],
            ["commerce_variants.tenant_id", "commerce_variants.product_id", "commerce_variants.id"],
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("variant_id", "locale"),
        locale_check(),
        not_blank("title", 300),
        json_object("options"),
    )

    product_id: Mapped[UUID]
    variant_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    title: Mapped[str] = mapped_column(sa.String(300))
    options: Mapped[dict[str, Any]] = mapped_column(server_default=jsonb_default())


class PriceList(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_price_lists"
    __table_args__ = (
        tenant_unique("commerce_price_lists"),
        sa.UniqueConstraint("tenant_id", "slug"),
        slug_check(),
        not_blank("name", 200),
        sa.CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="valid_period"),
    )

    slug: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]


class Price(TenantRow, Timestamps, Base):
    """A variant's price in minor units for one currency, price list and minimum quantity."""

    __tablename__ = "commerce_prices"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id", "variant_id"],
            ["commerce_variants.tenant_id", "commerce_variants.product_id", "commerce_variants.id"],
            ondelete="CASCADE",
        ),
        tenant_fk(["price_list_id"], "commerce_price_lists", ["id"]),
        sa.UniqueConstraint("variant_id", "currency_code", "price_list_id", "min_quantity",
                            postgresql_nulls_not_distinct=True),
        currency_check(),
        *non_negative("amount"),
        sa.CheckConstraint("compare_at_amount IS NULL OR compare_at_amount >= 0", name="compare_at_amount_non_negative"),
        sa.CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        sa.Index("ix_commerce_prices_product_id", "product_id"),
    )

    product_id: Mapped[UUID]
    variant_id: Mapped[UUID]
    price_list_id: Mapped[UUID | None]
    currency_code: Mapped[str] = mapped_column(sa.CHAR(3))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    compare_at_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    min_quantity: Mapped[int] = mapped_column(server_default="1")


class InventoryLevel(TenantRow, Base):
    __tablename__ = "commerce_inventory_levels"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id", "variant_id"],
            ["commerce_variants.tenant_id", "commerce_variants.product_id", "commerce_variants.id"],
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("variant_id", "location"),
        slug_check("location"),
        *non_negative("stocked_quantity", "reserved_quantity"),
        sa.CheckConstraint("reserved_quantity <= stocked_quantity", name="reserved_within_stock"),
        sa.Index("ix_commerce_inventory_levels_product_id", "product_id"),
    )

    product_id: Mapped[UUID]
    variant_id: Mapped[UUID]
    location: Mapped[str] = mapped_column(sa.String(128), server_default="default")
    stocked_quantity: Mapped[int] = mapped_column(server_default="0")
    reserved_quantity: Mapped[int] = mapped_column(server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))


class Category(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_categories"
    __table_args__ = (
        tenant_unique("commerce_categories"),
        sa.UniqueConstraint("tenant_id", "handle"),
        tenant_fk(["parent_id"], "commerce_categories", ["id"]),
        slug_check("handle"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    parent_id: Mapped[UUID | None]
    handle: Mapped[str] = mapped_column(sa.String(128))
    position: Mapped[int] = mapped_column(server_default="0")


class CategoryTranslation(TenantRow, Base):
    __tablename__ = "commerce_category_translations"
    __table_args__ = (
        tenant_fk(["category_id"], "commerce_categories", ["id"]),
        sa.UniqueConstraint("category_id", "locale"),
        locale_check(),
        not_blank("name", 200),
    )

    category_id: Mapped[UUID]
    locale: Mapped[str] = mapped_column(sa.String(35))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)


class ProductCategory(TenantRow, Base):
    __tablename__ = "commerce_product_categories"
    __table_args__ = (
        tenant_fk(["product_id"], "commerce_products", ["id"]),
        tenant_fk(["category_id"], "commerce_categories", ["id"]),
        sa.UniqueConstraint("product_id", "category_id"),
        sa.Index("ix_commerce_product_categories_category_id", "category_id"),
    )

    product_id: Mapped[UUID]
    category_id: Mapped[UUID]
    position: Mapped[int] = mapped_column(server_default="0")


class Tag(TenantRow, Base):
    __tablename__ = "commerce_tags"
    __table_args__ = (
        tenant_unique("commerce_tags"),
        sa.UniqueConstraint("tenant_id", "slug"),
        slug_check(),
        not_blank("name", 100),
    )

    slug: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(100))


class ProductTag(TenantRow, Base):
    __tablename__ = "commerce_product_tags"
    __table_args__ = (
        tenant_fk(["product_id"], "commerce_products", ["id"]),
        tenant_fk(["tag_id"], "commerce_tags", ["id"]),
        sa.UniqueConstraint("product_id", "tag_id"),
        sa.Index("ix_commerce_product_tags_tag_id", "tag_id"),
    )

    product_id: Mapped[UUID]
    tag_id: Mapped[UUID]


class Order(TenantRow, Timestamps, Base):
    __tablename__ = "commerce_orders"
    __table_args__ = (
        tenant_unique("commerce_orders"),
        sa.UniqueConstraint("tenant_id", "number"),
        tenant_fk(["customer_id"], "users", ["id"], ondelete="SET NULL"),
        one_of("status", ORDER_STATUSES),
        currency_check(),
        *non_negative("subtotal", "tax_total", "shipping_total", "discount_total", "total"),
        sa.CheckConstraint("total = subtotal + tax_total + shipping_total - discount_total", name="total_adds_up"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        json_object("metadata"),
    )

    number: Mapped[int] = mapped_column(sa.BigInteger)
    customer_id: Mapped[UUID | None]
    email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="pending")
    currency_code: Mapped[str] = mapped_column(sa.CHAR(3))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    tax_total: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    shipping_total: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    total: Mapped[int] = mapped_column(sa.BigInteger)
    shipping_address: Mapped[dict[str, Any] | None]
    billing_address: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=jsonb_default())


class OrderLine(TenantRow, Base):
    __tablename__ = "commerce_order_lines"
    __table_args__ = (
        tenant_fk(["order_id"], "commerce_orders", ["id"]),
        tenant_fk(["product_id"], "commerce_products", ["id"], ondelete="SET NULL"),
        tenant_fk(["variant_id"], "commerce_variants", ["id"], ondelete="SET NULL"),
        currency_check(),
        not_blank("title", 300),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        *non_negative("unit_price"),
        sa.CheckConstraint("total = quantity * unit_price", name="total_adds_up"),
        sa.Index("ix_commerce_order_lines_order_id", "order_id"),
    )

    order_id: Mapped[UUID]
    product_id: Mapped[UUID | None]
    variant_id: Mapped[UUID | None]
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int]
    currency_code: Mapped[str] = mapped_column(sa.CHAR(3))
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    total: Mapped[int] = mapped_column(sa.BigInteger)
