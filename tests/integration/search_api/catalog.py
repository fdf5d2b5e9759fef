"""Test data builder for the search API (reusable by end-to-end tests and the bench).

``Catalog`` creates tenants (with enabled locales) and search keys with SQL, builds
contract documents with small factories, and publishes them through the REAL sinks
(``PostgresSink`` and ``TantivySink``), so the read model is exactly what the pipeline
writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from contracts.documents import (AuthorRef, CategoryRef, ContentCategoryRef, ContentDocument, PriceRange,
                                 ProductDocument, VariantDoc)
from contracts.ids import new_id
from contracts.keys import ApiKeyKind, issue_api_key
from pipelines.model import RootDocuments, RootKey
from pipelines.sinks.postgres import PostgresSink
from pipelines.sinks.tantivy_sink import TantivySink

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    id: UUID
    slug: str
    default_locale: str
    locales: tuple[str, ...]


def category(handle_path: Sequence[str], names: Sequence[str] | None = None) -> CategoryRef:
    names = list(names or [h.replace("-", " ").title() for h in handle_path])
    return CategoryRef(id=new_id(), handle=handle_path[-1], name=names[-1], path=names, path_handles=list(handle_path))


def product(tenant: TenantInfo, handle: str, title: str, *, locale: str = "en", description: str | None = None,
            categories: Sequence[CategoryRef] = (), tags: Sequence[str] = (), vendor: str | None = None,
            prices: dict[str, int] | None = None, stock: int = 5, options: dict[str, list[str]] | None = None,
            status: str = "published", published_days: int = 0, product_id: UUID | None = None,
            version: int = 1, product_type: str | None = None) -> ProductDocument:
    prices = prices or {"EUR": 1000}
    handles = list(dict.fromkeys(h for c in categories for h in c.path_handles))
    published = BASE_TIME + timedelta(days=published_days) if status == "published" else None
    return ProductDocument(
        id=product_id or new_id(), tenant_id=tenant.id, locale=locale, resolved_locale=locale, handle=handle,
        status=status, title=title, description=description, vendor=vendor, product_type=product_type,
        prices=[PriceRange(currency=c, min=p, max=p) for c, p in prices.items()],
        total_stock=stock, in_stock=stock > 0, categories=list(categories),
        category_names=[c.name for c in categories], category_handles=handles,
        tags=[t.title() for t in tags], tag_slugs=list(tags),
        variants=[VariantDoc(id=new_id(), sku=f"{handle}-1", prices=prices, available=stock, in_stock=stock > 0,
                             options={k: v[0] for k, v in (options or {}).items()})],
        skus=[f"{handle}-1"], options=options or {}, published_at=published,
        created_at=BASE_TIME, updated_at=BASE_TIME, version=version)


def content(tenant: TenantInfo, kind: str, slug: str, title: str, *, locale: str = "en", body: str = "",
            excerpt: str | None = None, tags: Sequence[str] = (), author: AuthorRef | None = None,
            category_slug: str | None = None, status: str = "published", published_days: int = 0,
            node_id: UUID | None = None, version: int = 1) -> ContentDocument:
    published = BASE_TIME + timedelta(days=published_days) if status == "published" else None
    cat = ContentCategoryRef(id=new_id(), slug=category_slug, name=category_slug.title()) if category_slug else None
    return ContentDocument(
        id=node_id or new_id(), tenant_id=tenant.id, locale=locale, resolved_locale=locale, kind=kind, status=status,
        slug=slug, title=title, excerpt=excerpt, body_text=body, body_format="markdown", category=cat,
        category_name=cat.name if cat else None, tags=[t.title() for t in tags], tag_slugs=list(tags),
        author=author, author_name=author.display_name if author else None, published_at=published,
        created_at=BASE_TIME, updated_at=BASE_TIME, version=version)


@dataclass
class Catalog:
    database_url: str
    index_root: Path
    documents: list[ProductDocument | ContentDocument] = field(default_factory=list)

    def tenant(self, slug: str, locales: Sequence[str] = ("en", "de", "ru"), default: str = "en",
               status: str = "active") -> TenantInfo:
        tenant_id = new_id()
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO tenants (id, slug, name, default_locale, status) VALUES (%s, %s, %s, %s, %s)",
                         [tenant_id, slug, slug.title(), default, status])
            for position, locale in enumerate(locales):
                conn.execute("INSERT INTO tenant_locales (id, tenant_id, locale, position) VALUES (%s, %s, %s, %s)",
                             [new_id(), tenant_id, locale, position])
        return TenantInfo(tenant_id, slug, default, tuple(locales))

    def key(self, tenant: TenantInfo, kind: ApiKeyKind, *, revoked: bool = False, expired: bool = False) -> str:
        issued = issue_api_key(kind)
        now = datetime.now(UTC)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO api_keys (id, tenant_id, name, kind, prefix, key_hash, revoked_at, expires_at)"
                         " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         [new_id(), tenant.id, f"{kind} key", kind, issued.prefix, issued.key_hash,
                          now if revoked else None, now - timedelta(hours=1) if expired else None])
        return issued.key

    def revoke(self, key: str) -> None:
        prefix = key.split("_")[2]
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("UPDATE api_keys SET revoked_at = now() WHERE prefix = %s", [prefix])

    def publish(self, documents: Iterable[ProductDocument | ContentDocument]) -> None:
        """Write documents through both real sinks, grouped by root as the projection core emits them."""
        docs = list(documents)
        self.documents.extend(docs)
        emissions = to_emissions(docs)
        for sink in (PostgresSink(self.database_url), TantivySink(self.index_root, heap_size=20_000_000)):
            sink.setup()
            try:
                sink.write(emissions)
                sink.flush()
            finally:
                sink.close()

    def set_applied_lsn(self, lsn: int, pipeline: str = "embedded") -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO pipeline_checkpoints (pipeline, applied_commit_lsn) VALUES (%s, %s)"
                         " ON CONFLICT (pipeline) DO UPDATE SET applied_commit_lsn = excluded.applied_commit_lsn",
                         [pipeline, lsn])


def to_emissions(docs: Sequence[ProductDocument | ContentDocument]) -> list[RootDocuments]:
    roots: dict[RootKey, list[Any]] = defaultdict(list)
    for doc in docs:
        roots[RootKey(doc.doc_type, doc.tenant_id, doc.id)].append(doc)
    return [RootDocuments(root=key, version=max(d.version for d in group), documents=tuple(group))
            for key, group in roots.items()]
