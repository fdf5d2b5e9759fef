"""Row contracts: one model per captured table, over Debezium's JSON forms of its columns.

Debezium (with our settings) renders UUIDs and timestamps with time zone as strings,
JSONB as a JSON *string*, BIGINT as a number; these models validate a ``before`` or
``after`` row and give typed Python values (JSONB parsed). A drift test keeps them
equal to the write model's columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Json, ValidationError

from contracts.envelope import ChangeEvent, InvalidChangeEvent


class RowContract(BaseModel):
    """Base of every row contract: strict about unknown columns, immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TABLE: ClassVar[str]


class TenantsRow(RowContract):
    TABLE: ClassVar[str] = "tenants"

    id: UUID
    slug: str
    name: str
    default_locale: str
    status: Literal["active", "suspended"]
    settings: Json[Any]
    created_at: datetime
    updated_at: datetime


class TenantLocalesRow(RowContract):
    TABLE: ClassVar[str] = "tenant_locales"

    id: UUID
    tenant_id: UUID
    locale: str
    enabled: bool
    position: int
    created_at: datetime


class TenantModulesRow(RowContract):
    TABLE: ClassVar[str] = "tenant_modules"

    id: UUID
    tenant_id: UUID
    module: Literal["content", "blog", "forum", "pages", "commerce", "flex", "index"]
    enabled: bool
    settings: Json[Any]
    created_at: datetime
    updated_at: datetime


class UsersRow(RowContract):
    TABLE: ClassVar[str] = "users"

    id: UUID
    tenant_id: UUID
    email: str
    display_name: str
    status: Literal["active", "disabled"]
    locale: str | None = None
    created_at: datetime
    updated_at: datetime


class RolesRow(RowContract):
    TABLE: ClassVar[str] = "roles"

    id: UUID
    tenant_id: UUID
    slug: str
    name: str
    is_system: bool
    created_at: datetime


class RolePermissionsRow(RowContract):
    TABLE: ClassVar[str] = "role_permissions"

    id: UUID
    tenant_id: UUID
    role_id: UUID
    permission: str


class UserRolesRow(RowContract):
    TABLE: ClassVar[str] = "user_roles"

    id: UUID
    tenant_id: UUID
    user_id: UUID
    role_id: UUID


class ContentCategoriesRow(RowContract):
    TABLE: ClassVar[str] = "content_categories"

    id: UUID
    tenant_id: UUID
    parent_id: UUID | None = None
    slug: str
    position: int
    created_at: datetime
    updated_at: datetime


class ContentCategoryTranslationsRow(RowContract):
    TABLE: ClassVar[str] = "content_category_translations"

    id: UUID
    tenant_id: UUID
    category_id: UUID
    locale: str
    name: str
    description: str | None = None


class ContentTagsRow(RowContract):
    TABLE: ClassVar[str] = "content_tags"

    id: UUID
    tenant_id: UUID
    slug: str
    name: str


class NodesRow(RowContract):
    TABLE: ClassVar[str] = "nodes"

    id: UUID
    tenant_id: UUID
    kind: Literal["page", "post", "comment", "topic", "reply"]
    status: Literal["draft", "published", "archived"]
    parent_id: UUID | None = None
    root_id: UUID
    author_id: UUID | None = None
    category_id: UUID | None = None
    position: int
    depth: int
    metadata: Json[Any]
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class NodeTranslationsRow(RowContract):
    TABLE: ClassVar[str] = "node_translations"

    id: UUID
    tenant_id: UUID
    node_id: UUID
    locale: str
    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    meta_title: str | None = None
    meta_description: str | None = None
    created_at: datetime
    updated_at: datetime


class NodeBodiesRow(RowContract):
    TABLE: ClassVar[str] = "node_bodies"

    id: UUID
    tenant_id: UUID
    node_id: UUID
    locale: str
    body: str
    format: Literal["markdown", "html"]
    updated_at: datetime


class NodeTagsRow(RowContract):
    TABLE: ClassVar[str] = "node_tags"

    id: UUID
    tenant_id: UUID
    node_id: UUID
    tag_id: UUID


class CommerceProductsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_products"

    id: UUID
    tenant_id: UUID
    handle: str
    status: Literal["draft", "published", "archived"]
    vendor: str | None = None
    product_type: str | None = None
    discountable: bool
    metadata: Json[Any]
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CommerceProductTranslationsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_product_translations"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    locale: str
    title: str
    subtitle: str | None = None
    description: str | None = None
    meta_title: str | None = None
    meta_description: str | None = None
    created_at: datetime
    updated_at: datetime


class CommerceVariantsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_variants"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    sku: str | None = None
    barcode: str | None = None
    options: Json[Any]
    inventory_policy: Literal["deny", "continue"]
    manage_inventory: bool
    weight_grams: int | None = None
    position: int
    created_at: datetime
    updated_at: datetime


class CommerceVariantTranslationsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_variant_translations"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    variant_id: UUID
    locale: str
    title: str
    options: Json[Any]


class CommercePriceListsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_price_lists"

    id: UUID
    tenant_id: UUID
    slug: str
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CommercePricesRow(RowContract):
    TABLE: ClassVar[str] = "commerce_prices"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    variant_id: UUID
    price_list_id: UUID | None = None
    currency_code: str
    amount: int
    compare_at_amount: int | None = None
    min_quantity: int
    created_at: datetime
    updated_at: datetime


class CommerceInventoryLevelsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_inventory_levels"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    variant_id: UUID
    location: str
    stocked_quantity: int
    reserved_quantity: int
    updated_at: datetime


class CommerceCategoriesRow(RowContract):
    TABLE: ClassVar[str] = "commerce_categories"

    id: UUID
    tenant_id: UUID
    parent_id: UUID | None = None
    handle: str
    position: int
    created_at: datetime
    updated_at: datetime


class CommerceCategoryTranslationsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_category_translations"

    id: UUID
    tenant_id: UUID
    category_id: UUID
    locale: str
    name: str
    description: str | None = None


class CommerceProductCategoriesRow(RowContract):
    TABLE: ClassVar[str] = "commerce_product_categories"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    category_id: UUID
    position: int


class CommerceTagsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_tags"

    id: UUID
    tenant_id: UUID
    slug: str
    name: str


class CommerceProductTagsRow(RowContract):
    TABLE: ClassVar[str] = "commerce_product_tags"

    id: UUID
    tenant_id: UUID
    product_id: UUID
    tag_id: UUID


class CommerceOrdersRow(RowContract):
    TABLE: ClassVar[str] = "commerce_orders"

    id: UUID
    tenant_id: UUID
    number: int
    customer_id: UUID | None = None
    email: str | None = None
    status: Literal["pending", "paid", "fulfilled", "cancelled", "refunded"]
    currency_code: str
    subtotal: int
    tax_total: int
    shipping_total: int
    discount_total: int
    total: int
    shipping_address: Json[Any] | None = None
    billing_address: Json[Any] | None = None
    metadata: Json[Any]
    created_at: datetime
    updated_at: datetime


class CommerceOrderLinesRow(RowContract):
    TABLE: ClassVar[str] = "commerce_order_lines"

    id: UUID
    tenant_id: UUID
    order_id: UUID
    product_id: UUID | None = None
    variant_id: UUID | None = None
    sku: str | None = None
    title: str
    quantity: int
    currency_code: str
    unit_price: int
    total: int


class FlexSchemasRow(RowContract):
    TABLE: ClassVar[str] = "flex_schemas"

    id: UUID
    tenant_id: UUID
    slug: str
    name: str
    fields: Json[Any]
    version: int
    created_at: datetime
    updated_at: datetime


class FlexEntriesRow(RowContract):
    TABLE: ClassVar[str] = "flex_entries"

    id: UUID
    tenant_id: UUID
    schema_id: UUID
    schema_version: int
    entity_type: str | None = None
    entity_id: UUID | None = None
    data: Json[Any]
    created_at: datetime
    updated_at: datetime


class OutboxRow(RowContract):
    TABLE: ClassVar[str] = "outbox"

    id: UUID
    tenant_id: UUID
    aggregatetype: str
    aggregateid: str
    type: str
    payload: Json[Any]
    request_id: str | None = None
    created_at: datetime


ROW_CONTRACTS: dict[str, type[RowContract]] = {
    model.TABLE: model for model in RowContract.__subclasses__()
}


def parse_row(table: str, row: dict[str, Any]) -> RowContract:
    """Validate one row of ``table``; raise InvalidChangeEvent with the field paths."""
    contract = ROW_CONTRACTS.get(table)
    if contract is None:
        raise InvalidChangeEvent(f"no row contract for table {table!r}")
    try:
        return contract.model_validate(row)
    except ValidationError as exc:
        raise InvalidChangeEvent(f"{table}: {exc}") from exc


def parse_event_rows(event: ChangeEvent) -> tuple[RowContract | None, RowContract | None]:
    """(before, after) of a change event, each validated against its table's contract."""
    before = parse_row(event.table, event.before) if event.before is not None else None
    after = parse_row(event.table, event.after) if event.after is not None else None
    return before, after
