"""Deterministic bench data: tenants, catalogues and content written to the write model with COPY.

``generate(database_url, products, seed)`` fills a migrated database: tenants (each
with a default locale and enabled locales: en, de, ru, plus fr or es for some), a
translated category tree, tags and a wholesale price list per tenant, then products in
chunks of ``CHUNK`` (so 1M products stream through a bounded amount of memory): 1–4
variants with options, EUR and USD prices (some also on the price list, some with a
compare-at price), inventory at one or two locations, translations per locale (English
always, for the freshness benches), categories, tags and a published/draft/archived
mix. Content scales with the catalogue: pages, posts with translated bodies and
comments. The same seed gives the same rows.

Ids are md5-derived UUIDs (``md5('p' || n)::uuid`` for product ``n``, ``md5('pt' || n ||
locale)`` for its translations), so a bench can name a row without a lookup, from SQL
or Python alike.

    .venv/bin/python -m bench.generator postgresql://.../db --size 10k --seed 7
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from bench import words
from bench.tables import Rows, copy_rows

log = logging.getLogger(__name__)

CHUNK = 5_000
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
LOCALE_SETS: tuple[tuple[str, ...], ...] = (("en", "de", "ru"), ("de", "en", "ru", "fr"), ("en", "de", "ru", "es"),
                                            ("ru", "en", "de"), ("en", "de", "ru", "fr", "es"))
PUBLISHED_AT = "2026-01-01T00:00:00+00"


class GeneratorError(Exception):
    """Root of the generator's errors (a size it cannot parse)."""


def parse_size(text: str) -> int:
    """``1k``, ``10k``, ``100k``, ``1m`` or a plain positive number of products."""
    size = SIZES.get(text.lower())
    if size is None:
        if not text.isdigit() or int(text) < 1:
            raise GeneratorError(f"size {text!r}: use 1k, 10k, 100k, 1m or a positive number")
        size = int(text)
    return size


def uid(*parts: object) -> UUID:
    """PostgreSQL's ``md5(concatenated parts)::uuid``."""
    return UUID(hashlib.md5("".join(str(p) for p in parts).encode()).hexdigest())


def tenant_count(products: int) -> int:
    return max(1, min(10, products // 2_500))


@dataclass(frozen=True)
class Tenant:
    number: int
    id: UUID
    locales: tuple[str, ...]  # the first is the default
    categories: tuple[UUID, ...]  # leaves, where products go
    tags: tuple[UUID, ...]
    price_list: UUID
    content_categories: tuple[UUID, ...]
    content_tags: tuple[UUID, ...]


@dataclass
class Manifest:
    """What was written: rows per table and the documents the pipeline must produce."""

    products: int
    tenants: int
    seed: int
    rows: Counter[str] = field(default_factory=Counter)
    product_documents: int = 0
    content_documents: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_json(self) -> dict[str, Any]:
        return {"products": self.products, "tenants": self.tenants, "seed": self.seed, "rows": dict(self.rows),
                "total_rows": self.total_rows, "product_documents": self.product_documents,
                "content_documents": self.content_documents, "seconds": round(self.seconds, 3)}


def generate(database_url: str, products: int, seed: int = 42, tenants: int | None = None) -> Manifest:
    """Write ``products`` products (and their tenants and content) into a migrated, empty database."""
    started = time.perf_counter()
    manifest = Manifest(products, tenants or tenant_count(products), seed)
    rng = random.Random(seed)
    with psycopg.connect(database_url) as conn:
        rows = Rows()
        made = [_tenant(rng, n, rows) for n in range(manifest.tenants)]
        _flush(conn, rows, manifest)
        for first in range(1, products + 1, CHUNK):
            for n in range(first, min(products, first + CHUNK - 1) + 1):
                tenant = made[(n - 1) % len(made)]
                _product(rng, n, tenant, rows)
                _content(rng, n, tenant, rows)
            _flush(conn, rows, manifest)
            log.info("generated", extra={"products": min(products, first + CHUNK - 1), "of": products})
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    roots = Counter(made[(n - 1) % len(made)].number for n in range(1, products + 1))
    manifest.product_documents = sum(count * len(made[t].locales) for t, count in roots.items())
    manifest.content_documents = sum(_roots_of(n) * len(made[(n - 1) % len(made)].locales)
                                     for n in range(1, products + 1))
    manifest.seconds = time.perf_counter() - started
    return manifest


def _flush(conn: psycopg.Connection[Any], rows: Rows, manifest: Manifest) -> None:
    manifest.rows.update(copy_rows(conn, rows))
    conn.commit()
    rows.clear()


def _tenant(rng: random.Random, number: int, rows: Rows) -> Tenant:
    t = uid("tenant", number)
    locales = LOCALE_SETS[number % len(LOCALE_SETS)]
    rows.add("tenants", id=t, slug=f"bench-{number}", name=f"Bench shop {number}", default_locale=locales[0])
    for position, locale in enumerate(locales):
        rows.add("tenant_locales", id=uid("loc", number, locale), tenant_id=t, locale=locale, position=position)
    leaves = []
    for root in range(8):
        root_id = uid("cat", number, "-", root)
        _category(rng, rows, t, root_id, None, f"dept-{root}", root, locales)
        for child in range(5):
            leaf = uid("cat", number, "-", root, "-", child)
            _category(rng, rows, t, leaf, root_id, f"dept-{root}-{child}", child, locales)
            leaves.append(leaf)
    tags = [uid("tag", number, "-", i) for i in range(30)]
    for i, tag in enumerate(tags):
        rows.add("commerce_tags", id=tag, tenant_id=t, slug=f"tag-{i}", name=f"{rng.choice(words.COLORS)} {i}")
    price_list = uid("pl", number)
    rows.add("commerce_price_lists", id=price_list, tenant_id=t, slug="wholesale", name="Wholesale")
    content_categories = [uid("ccat", number, "-", i) for i in range(5)]
    for i, category in enumerate(content_categories):
        rows.add("content_categories", id=category, tenant_id=t, slug=f"section-{i}", position=i)
        for locale in locales:
            rows.add("content_category_translations", id=uid("ccatt", number, "-", i, locale), tenant_id=t,
                     category_id=category, locale=locale, name=words.title(rng, locale))
    content_tags = [uid("ctag", number, "-", i) for i in range(10)]
    for i, tag in enumerate(content_tags):
        rows.add("content_tags", id=tag, tenant_id=t, slug=f"topic-{i}", name=f"Topic {i}")
    return Tenant(number, t, locales, tuple(leaves), tuple(tags), price_list, tuple(content_categories),
                  tuple(content_tags))


def _category(rng: random.Random, rows: Rows, t: UUID, cid: UUID, parent: UUID | None, handle: str, position: int,
              locales: Sequence[str]) -> None:
    rows.add("commerce_categories", id=cid, tenant_id=t, parent_id=parent, handle=handle, position=position)
    for locale in locales:
        rows.add("commerce_category_translations", id=uid(cid, locale), tenant_id=t, category_id=cid, locale=locale,
                 name=words.title(rng, locale), description=words.sentence(rng, locale))


def _product(rng: random.Random, n: int, tenant: Tenant, rows: Rows) -> None:
    t, p = tenant.id, uid("p", n)
    status = rng.choices(("published", "draft", "archived"), (85, 10, 5))[0]
    rows.add("commerce_products", id=p, tenant_id=t, handle=words.slug(rng, n), status=status,
             vendor=f"Vendor {n % 97}", product_type=rng.choice(words.MATERIALS),
             published_at=PUBLISHED_AT if status != "draft" else None)
    for locale in tenant.locales:
        if locale == "en" or rng.random() < 0.85:
            rows.add("commerce_product_translations", id=uid("pt", n, locale), tenant_id=t, product_id=p,
                     locale=locale, title=f"{words.title(rng, locale)} {n}", subtitle=words.sentence(rng, locale),
                     description=words.paragraph(rng, locale, rng.randint(2, 5)))
    colors = rng.sample(words.COLORS, 2)
    base = rng.randrange(500, 20_000, 10)
    for k, size in enumerate(rng.sample(words.SIZES, rng.randint(1, 4))):
        _variant(rng, n, k, size, colors[k % 2], base, tenant, p, rows)
    for position, category in enumerate(rng.sample(tenant.categories, rng.randint(1, 2))):
        rows.add("commerce_product_categories", id=uid("pc", n, "-", position), tenant_id=t, product_id=p,
                 category_id=category, position=position)
    for tag in rng.sample(tenant.tags, rng.randint(0, 3)):
        rows.add("commerce_product_tags", id=uid("ptag", n, tag), tenant_id=t, product_id=p, tag_id=tag)


def _variant(rng: random.Random, n: int, k: int, size: str, color: str, base: int, tenant: Tenant, p: UUID,
             rows: Rows) -> None:
    t, v = tenant.id, uid("v", n, "-", k)
    rows.add("commerce_variants", id=v, tenant_id=t, product_id=p, sku=f"SKU-{n}-{k}",
             options=json.dumps({"size": size, "color": color}), weight_grams=rng.randrange(50, 3_000),
             inventory_policy=rng.choices(("deny", "continue"), (9, 1))[0], position=k)
    for locale in tenant.locales[1:]:
        if rng.random() < 0.5:
            rows.add("commerce_variant_translations", id=uid("vt", n, "-", k, locale), tenant_id=t, product_id=p,
                     variant_id=v, locale=locale, title=f"{words.title(rng, locale)} {size}")
    amount = base + 100 * k
    compare = amount + 500 if rng.random() < 0.2 else None
    for currency, factor in (("EUR", 1.0), ("USD", 1.1)):
        rows.add("commerce_prices", id=uid("pr", n, "-", k, currency), tenant_id=t, product_id=p, variant_id=v,
                 currency_code=currency, amount=int(amount * factor),
                 compare_at_amount=int(compare * factor) if compare else None)
    if rng.random() < 0.3:
        rows.add("commerce_prices", id=uid("prw", n, "-", k), tenant_id=t, product_id=p, variant_id=v,
                 price_list_id=tenant.price_list, currency_code="EUR", amount=int(amount * 0.8), min_quantity=10)
    for location in ("default", "warehouse-2")[: rng.randint(1, 2)]:
        stocked = rng.choice((0, 0, 1, 5, 20, 100))
        rows.add("commerce_inventory_levels", id=uid("inv", n, "-", k, location), tenant_id=t, product_id=p,
                 variant_id=v, location=location, stocked_quantity=stocked,
                 reserved_quantity=rng.randint(0, stocked // 4))


def _roots_of(n: int) -> int:
    """Root nodes (documents) made beside product ``n``: a post every 10th, a page every 50th."""
    return (n % 10 == 0) + (n % 50 == 0)


def _content(rng: random.Random, n: int, tenant: Tenant, rows: Rows) -> None:
    if n % 10 == 0:
        post = _node(rng, "post", n, tenant, rows)
        for c in range(rng.choice((0, 0, 1, 2, 3))):
            _comment(rng, n, c, post, tenant, rows)
    if n % 50 == 0:
        _node(rng, "page", n, tenant, rows)


def _node(rng: random.Random, kind: str, n: int, tenant: Tenant, rows: Rows) -> UUID:
    t, node = tenant.id, uid(kind, n)
    status = rng.choices(("published", "draft"), (9, 1))[0]
    rows.add("nodes", id=node, tenant_id=t, kind=kind, status=status, root_id=node,
             category_id=rng.choice(tenant.content_categories) if kind == "post" else None,
             position=n, published_at=PUBLISHED_AT if status == "published" else None)
    for locale in tenant.locales:
        if locale == tenant.locales[0] or rng.random() < 0.7:
            topic = rng.choice(words.VOCABULARIES[locale].topics)
            rows.add("node_translations", id=uid("nt", kind, n, locale), tenant_id=t, node_id=node, locale=locale,
                     title=f"{topic[0].upper()}{topic[1:]} {n}", slug=f"{kind}-{n}-{locale}",
                     excerpt=words.sentence(rng, locale))
            body = "\n\n".join(words.paragraph(rng, locale, rng.randint(3, 6)) for _ in range(rng.randint(2, 4)))
            rows.add("node_bodies", id=uid("nb", kind, n, locale), tenant_id=t, node_id=node, locale=locale,
                     body=f"# {topic}\n\n{body}")
    if kind == "post":
        for tag in rng.sample(tenant.content_tags, rng.randint(0, 2)):
            rows.add("node_tags", id=uid("ntag", n, tag), tenant_id=t, node_id=node, tag_id=tag)
    return node


def _comment(rng: random.Random, n: int, c: int, post: UUID, tenant: Tenant, rows: Rows) -> None:
    t, comment = tenant.id, uid("comment", n, "-", c)
    locale = rng.choice(tenant.locales)
    rows.add("nodes", id=comment, tenant_id=t, kind="comment", status="published", parent_id=post, root_id=post,
             depth=1, position=c, published_at=PUBLISHED_AT)
    rows.add("node_bodies", id=uid("cb", n, "-", c), tenant_id=t, node_id=comment, locale=locale,
             body=words.paragraph(rng, locale, rng.randint(1, 3)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("database_url", help="a migrated, empty database")
    parser.add_argument("--size", default="1k", help="1k, 10k, 100k, 1m or a number of products")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    manifest = generate(args.database_url, parse_size(args.size), args.seed)
    print(json.dumps(manifest.to_json(), indent=2))  # noqa: T201 - a command-line tool's report


if __name__ == "__main__":
    main()
