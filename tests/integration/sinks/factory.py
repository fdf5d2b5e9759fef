"""Hand-built documents and emissions for sink tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.documents import CategoryRef, ContentCategoryRef, ContentDocument, PriceRange, ProductDocument
from contracts.ids import new_id
from pipelines.model import RootDocuments, RootKey

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

TITLES = {"en": "Linen shirts", "de": "Leinen Hemden", "ru": "Льняные рубашки"}


def product(
    tenant_id: UUID, product_id: UUID, locale: str = "en", *, version: int = 1, handle: str = "linen-shirt",
    title: str | None = None, prices: dict[str, tuple[int, int]] | None = None, stock: int = 5,
    categories: list[list[str]] | None = None, tags: list[str] | None = None, status: str = "published",
    description: str | None = None,
) -> ProductDocument:
    cats = [CategoryRef(id=new_id(), handle=path[-1], name=path[-1].title(), path=[p.title() for p in path],
                        path_handles=path) for path in (categories or [])]
    return ProductDocument(
        id=product_id, tenant_id=tenant_id, locale=locale, resolved_locale=locale, handle=handle,
        status=status, title=title or TITLES.get(locale.split("-")[0], "Linen shirts"), description=description,
        prices=[PriceRange(currency=c, min=lo, max=hi) for c, (lo, hi) in (prices or {"EUR": (1990, 2490)}).items()],
        total_stock=stock, in_stock=stock > 0, categories=cats,
        category_names=[c.name for c in cats], category_handles=sorted({h for c in cats for h in c.path_handles}),
        tags=[t.title() for t in (tags or [])], tag_slugs=list(tags or []),
        published_at=NOW if status == "published" else None, created_at=NOW - timedelta(days=1), updated_at=NOW,
        version=version,
    )


def content(
    tenant_id: UUID, node_id: UUID, locale: str = "en", *, version: int = 1, slug: str | None = "about-us",
    title: str = "About us", kind: str = "page", body: str = "We make linen shirts.", tags: list[str] | None = None,
    category: str | None = None,
) -> ContentDocument:
    return ContentDocument(
        id=node_id, tenant_id=tenant_id, locale=locale, resolved_locale=locale, kind=kind, status="published",
        slug=slug, title=title, body_text=body, excerpt=body[:40], tags=[t.title() for t in (tags or [])],
        tag_slugs=list(tags or []),
        category=ContentCategoryRef(id=new_id(), slug=category, name=category.title()) if category else None,
        category_name=category.title() if category else None,
        published_at=NOW, created_at=NOW - timedelta(days=1), updated_at=NOW, version=version,
    )


def emit(tenant_id: UUID, root_id: UUID, version: int, *docs: ProductDocument | ContentDocument,
         doc_type: str = "product") -> RootDocuments:
    kind = docs[0].doc_type if docs else doc_type
    return RootDocuments(root=RootKey(kind, tenant_id, root_id), version=version,  # type: ignore[arg-type]
                         documents=tuple(docs), committed_at=NOW)


def product_emission(tenant_id: UUID, product_id: UUID, version: int, locales: tuple[str, ...] = ("en", "de", "ru"),
                     **fields: object) -> RootDocuments:
    docs = [product(tenant_id, product_id, loc, version=version, **fields) for loc in locales]  # type: ignore[arg-type]
    return emit(tenant_id, product_id, version, *docs, doc_type="product")
