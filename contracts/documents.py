"""Read-model documents: what a storefront reads, one per (tenant, locale, entity).

Text fields are resolved with fallback (requested locale → language → tenant default);
``resolved_locale`` says where the text came from. Prices are per currency and never
mixed. ``version`` is the source LSN of the newest fact in the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.locale import LocaleField
from contracts.money import CurrencyField


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceRange(_Doc):
    """Lowest and highest base price (minor units) over a product's variants, in one currency."""

    currency: CurrencyField
    min: int = Field(ge=0)
    max: int = Field(ge=0)


class CategoryRef(_Doc):
    id: UUID
    handle: str
    name: str
    path: list[str] = Field(description="Names from the root category down to this one, in the document's locale")
    path_handles: list[str]


class VariantDoc(_Doc):
    id: UUID
    sku: str | None = None
    barcode: str | None = None
    title: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    prices: dict[str, int] = Field(default_factory=dict, description="currency → base price in minor units")
    available: int = 0
    in_stock: bool = False


class ProductDocument(_Doc):
    doc_type: Literal["product"] = "product"
    id: UUID
    tenant_id: UUID
    locale: LocaleField
    resolved_locale: LocaleField
    handle: str
    status: Literal["draft", "published", "archived"]
    title: str
    subtitle: str | None = None
    description: str | None = None
    meta_title: str | None = None
    meta_description: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    prices: list[PriceRange] = Field(default_factory=list)
    total_stock: int = 0
    in_stock: bool = False
    categories: list[CategoryRef] = Field(default_factory=list)
    category_names: list[str] = Field(default_factory=list)
    category_handles: list[str] = Field(default_factory=list, description="Each category and its ancestors")
    tags: list[str] = Field(default_factory=list)
    tag_slugs: list[str] = Field(default_factory=list)
    variants: list[VariantDoc] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)
    options: dict[str, list[str]] = Field(default_factory=dict, description="option name → values across variants")
    flex: dict[str, Any] = Field(default_factory=dict)
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(ge=0)


class AuthorRef(_Doc):
    id: UUID
    display_name: str


class ContentCategoryRef(_Doc):
    id: UUID
    slug: str
    name: str


class ContentDocument(_Doc):
    doc_type: Literal["content"] = "content"
    id: UUID
    tenant_id: UUID
    locale: LocaleField
    resolved_locale: LocaleField
    kind: Literal["page", "post", "topic"]
    status: Literal["draft", "published", "archived"]
    slug: str | None = None
    title: str | None = None
    excerpt: str | None = None
    body_text: str | None = None
    body_format: Literal["markdown", "html"] | None = None
    meta_title: str | None = None
    meta_description: str | None = None
    category: ContentCategoryRef | None = None
    category_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    tag_slugs: list[str] = Field(default_factory=list)
    author: AuthorRef | None = None
    author_name: str | None = None
    parent_id: UUID | None = None
    reply_count: int = Field(default=0, ge=0)
    flex: dict[str, Any] = Field(default_factory=dict)
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(ge=0)
