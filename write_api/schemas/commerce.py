"""Commerce request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from write_api.schemas.common import (
    CurrencyField, Id, LocaleField, Metadata, Name, Out, ShortText, Slug, Strict, Text, Timestamps, Title,
)

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Options = Annotated[dict[str, Annotated[str, StringConstraints(max_length=200)]], Field(max_length=20)]


class ProductTranslationIn(Strict):
    locale: LocaleField
    title: Title
    subtitle: Annotated[str, StringConstraints(max_length=300)] | None = None
    description: Text | None = None
    meta_title: Annotated[str, StringConstraints(max_length=300)] | None = None
    meta_description: ShortText | None = None


class VariantTranslationIn(Strict):
    locale: LocaleField
    title: Title
    options: Options = {}


class PriceIn(Strict):
    currency_code: CurrencyField
    amount: int = Field(ge=0, le=10**15)
    compare_at_amount: int | None = Field(default=None, ge=0, le=10**15)
    price_list: Slug | None = None
    min_quantity: int = Field(default=1, ge=1, le=10**9)


class InventoryIn(Strict):
    location: Slug = "default"
    stocked_quantity: int = Field(ge=0, le=2**31 - 1)
    reserved_quantity: int = Field(default=0, ge=0, le=2**31 - 1)


class VariantIn(Strict):
    sku: Sku | None = None
    barcode: Annotated[str, StringConstraints(max_length=64)] | None = None
    options: Options = {}
    inventory_policy: Literal["deny", "continue"] = "deny"
    manage_inventory: bool = True
    weight_grams: int | None = Field(default=None, ge=0, le=2**31 - 1)
    position: int | None = Field(default=None, ge=0, le=10_000)
    translations: Annotated[list[VariantTranslationIn], Field(max_length=50)] = []
    prices: Annotated[list[PriceIn], Field(max_length=100)] = []
    inventory: Annotated[list[InventoryIn], Field(max_length=50)] = []


class VariantPatch(Strict):
    sku: Sku | None = None
    barcode: Annotated[str, StringConstraints(max_length=64)] | None = None
    options: Options | None = None
    inventory_policy: Literal["deny", "continue"] | None = None
    manage_inventory: bool | None = None
    weight_grams: int | None = Field(default=None, ge=0, le=2**31 - 1)
    position: int | None = Field(default=None, ge=0, le=10_000)
    translations: Annotated[list[VariantTranslationIn], Field(max_length=50)] | None = None
    prices: Annotated[list[PriceIn], Field(max_length=100)] | None = None


class ProductFields(Strict):
    vendor: Annotated[str, StringConstraints(max_length=200)] | None = None
    product_type: Annotated[str, StringConstraints(max_length=200)] | None = None
    discountable: bool = True
    metadata: Metadata = {}
    category_ids: Annotated[list[Id], Field(max_length=50)] = []
    tags: Annotated[list[Slug], Field(max_length=50)] = []


class ProductIn(ProductFields):
    handle: Slug
    status: Literal["draft", "published"] = "draft"
    translations: Annotated[list[ProductTranslationIn], Field(min_length=1, max_length=50)]
    variants: Annotated[list[VariantIn], Field(max_length=100)] = []


class ProductReplace(ProductFields):
    """PUT: the product's own fields, translations, categories and tags (variants have their own routes)."""

    handle: Slug
    translations: Annotated[list[ProductTranslationIn], Field(min_length=1, max_length=50)]


class ProductPatch(Strict):
    handle: Slug | None = None
    vendor: Annotated[str, StringConstraints(max_length=200)] | None = None
    product_type: Annotated[str, StringConstraints(max_length=200)] | None = None
    discountable: bool | None = None
    metadata: Metadata | None = None
    translations: Annotated[list[ProductTranslationIn], Field(min_length=1, max_length=50)] | None = None
    category_ids: Annotated[list[Id], Field(max_length=50)] | None = None
    tags: Annotated[list[Slug], Field(max_length=50)] | None = None


class InventorySet(Strict):
    stocked_quantity: int = Field(ge=0, le=2**31 - 1)
    reserved_quantity: int = Field(default=0, ge=0, le=2**31 - 1)


class PriceOut(BaseModel):
    id: Any
    currency_code: str
    amount: int
    compare_at_amount: int | None
    price_list_id: Any | None
    min_quantity: int


class InventoryOut(BaseModel):
    location: str
    stocked_quantity: int
    reserved_quantity: int


class VariantTranslationOut(BaseModel):
    locale: str
    title: str
    options: dict[str, Any]


class VariantOut(Out):
    id: Any
    product_id: Any
    sku: str | None
    barcode: str | None
    options: dict[str, Any]
    inventory_policy: str
    manage_inventory: bool
    weight_grams: int | None
    position: int
    translations: list[VariantTranslationOut]
    prices: list[PriceOut]
    inventory: list[InventoryOut]


class ProductTranslationOut(BaseModel):
    locale: str
    title: str
    subtitle: str | None = None
    description: str | None = None
    meta_title: str | None = None
    meta_description: str | None = None


class ProductOut(Out, Timestamps):
    id: Any
    handle: str
    status: str
    vendor: str | None
    product_type: str | None
    discountable: bool
    metadata: dict[str, Any]
    published_at: datetime | None
    translations: list[ProductTranslationOut]
    variants: list[VariantOut]
    category_ids: list[Any]
    tags: list[str]


class CategoryTranslationIn(Strict):
    locale: LocaleField
    name: Name
    description: Text | None = None


class CategoryIn(Strict):
    handle: Slug
    parent_id: Id | None = None
    position: int = Field(default=0, ge=0, le=10_000)
    translations: Annotated[list[CategoryTranslationIn], Field(min_length=1, max_length=50)]


class CategoryPatch(Strict):
    handle: Slug | None = None
    parent_id: Id | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    translations: Annotated[list[CategoryTranslationIn], Field(min_length=1, max_length=50)] | None = None


class CategoryTranslationOut(BaseModel):
    locale: str
    name: str
    description: str | None


class CategoryOut(Out):
    id: Any
    handle: str
    parent_id: Any | None
    position: int
    translations: list[CategoryTranslationOut]


class TagIn(Strict):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TagOut(Out):
    id: Any
    slug: str
    name: str


class PriceListIn(Strict):
    slug: Slug
    name: Name
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class PriceListOut(Out):
    id: Any
    slug: str
    name: str
    starts_at: datetime | None
    ends_at: datetime | None


class OrderLineIn(Strict):
    variant_id: Id
    quantity: int = Field(ge=1, le=10_000)


class OrderIn(Strict):
    currency_code: CurrencyField
    email: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)] | None = None
    price_list: Slug | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]
    tax_total: int = Field(default=0, ge=0, le=10**15)
    shipping_total: int = Field(default=0, ge=0, le=10**15)
    discount_total: int = Field(default=0, ge=0, le=10**15)
    shipping_address: Annotated[dict[str, Any], Field(max_length=30)] | None = None
    billing_address: Annotated[dict[str, Any], Field(max_length=30)] | None = None


class OrderStatusIn(Strict):
    status: Literal["paid", "fulfilled", "cancelled", "refunded"]


class OrderLineOut(BaseModel):
    id: Any
    product_id: Any | None
    variant_id: Any | None
    sku: str | None
    title: str
    quantity: int
    unit_price: int
    total: int


class OrderOut(Out, Timestamps):
    id: Any
    number: int
    status: str
    email: str | None
    currency_code: str
    subtotal: int
    tax_total: int
    shipping_total: int
    discount_total: int
    total: int
    lines: list[OrderLineOut]
