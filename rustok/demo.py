"""The demo tenant: three locales, a category tree, products with variants and prices in
two currencies, pages and posts.

Idempotent: ids are derived from names, rows are inserted with ON CONFLICT DO NOTHING,
so a second run inserts nothing and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from ulid import ULID

from write_api.domain.permissions import ROLE_PERMISSIONS as SEEDED_ROLE_PERMISSIONS
from write_api.models import auth, commerce, content, tenancy

DEMO_SLUG = "demo"
LOCALES = ("en", "de", "ru")
CURRENCIES = ("EUR", "USD")
# All demo ids carry this ULID timestamp, so they sort before anything created later.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def demo_id(*parts: str) -> UUID:
    """A stable ULID-backed UUID for a named demo row."""
    digest = hashlib.sha256(":".join(("demo", *parts)).encode()).digest()
    millis = int(_EPOCH.timestamp() * 1000).to_bytes(6, "big")
    return ULID.from_bytes(millis + digest[:10]).to_uuid()


TENANT_ID = demo_id("tenant")

CATEGORIES: dict[str, tuple[str | None, dict[str, str]]] = {
    "apparel": (None, {"en": "Apparel", "de": "Bekleidung", "ru": "Одежда"}),
    "t-shirts": ("apparel", {"en": "T-shirts", "de": "T-Shirts", "ru": "Футболки"}),
    "hoodies": ("apparel", {"en": "Hoodies", "de": "Kapuzenpullover", "ru": "Худи"}),
    "home": (None, {"en": "Home", "de": "Zuhause", "ru": "Дом"}),
    "mugs": ("home", {"en": "Mugs", "de": "Tassen", "ru": "Кружки"}),
}

TAGS = {"organic": "Organic", "bestseller": "Bestseller", "new": "New"}

# handle: (category, tags, {locale: (title, description)}, [(sku suffix, size, stock)], EUR cents, USD cents)
PRODUCTS: dict[str, tuple[str, tuple[str, ...], dict[str, tuple[str, str]], list[tuple[str, str, int]], int, int]] = {
    "organic-cotton-tee": (
        "t-shirts", ("organic", "bestseller"),
        {
            "en": ("Organic Cotton T-Shirt", "A soft everyday shirt made from organic cotton."),
            "de": ("T-Shirt aus Bio-Baumwolle", "Ein weiches Alltagsshirt aus Bio-Baumwolle."),
            "ru": ("Футболка из органического хлопка", "Мягкая повседневная футболка из органического хлопка."),
        },
        [("S", "S", 12), ("M", "M", 30), ("L", "L", 0)], 2490, 2790,
    ),
    "linen-shirt": (
        "t-shirts", ("new",),
        {
            "en": ("Linen Shirt", "Breathable linen for warm summer days."),
            "de": ("Leinenhemd", "Atmungsaktives Leinen für warme Sommertage."),
        },
        [("M", "M", 5), ("L", "L", 7)], 4990, 5490,
    ),
    "alpine-hoodie": (
        "hoodies", ("bestseller",),
        {
            "en": ("Alpine Hoodie", "A warm fleece hoodie for cold mountain evenings."),
            "de": ("Alpen-Kapuzenpullover", "Ein warmer Fleece-Pullover für kalte Bergabende."),
            "ru": ("Альпийское худи", "Тёплое флисовое худи для холодных горных вечеров."),
        },
        [("S", "S", 3), ("M", "M", 0), ("L", "L", 9), ("XL", "XL", 2)], 6900, 7500,
    ),
    "zip-hoodie": (
        "hoodies", (),
        {
            "en": ("Zip Hoodie", "A light hoodie with a full-length zip."),
            "de": ("Kapuzenjacke mit Reißverschluss", "Eine leichte Kapuzenjacke mit durchgehendem Reißverschluss."),
            "ru": ("Худи на молнии", "Лёгкое худи с молнией во всю длину."),
        },
        [("M", "M", 0), ("L", "L", 0)], 5900, 6500,
    ),
    "ceramic-mug": (
        "mugs", ("new", "organic"),
        {
            "en": ("Ceramic Coffee Mug", "Hand-glazed ceramic mug for coffee or tea."),
            "de": ("Keramik-Kaffeebecher", "Handglasierter Keramikbecher für Kaffee oder Tee."),
            "ru": ("Керамическая кружка", "Керамическая кружка ручной глазуровки для кофе или чая."),
        },
        [("STD", "350 ml", 40)], 1500, 1700,
    ),
    "travel-mug": (
        "mugs", (),
        {
            "en": ("Insulated Travel Mug", "Keeps drinks hot for six hours."),
            "de": ("Isolierter Reisebecher", "Hält Getränke sechs Stunden lang heiß."),
            "ru": ("Термокружка", "Сохраняет напитки горячими шесть часов."),
        },
        [("STD", "450 ml", 18)], 2400, 2600,
    ),
}

PAGES = {
    "about": {
        "en": ("About us", "We make durable clothes and homeware from honest materials."),
        "de": ("Über uns", "Wir fertigen langlebige Kleidung und Haushaltswaren aus ehrlichen Materialien."),
        "ru": ("О нас", "Мы делаем долговечную одежду и товары для дома из честных материалов."),
    },
    "shipping": {
        "en": ("Shipping", "Orders ship within two business days across Europe."),
        "de": ("Versand", "Bestellungen werden innerhalb von zwei Werktagen in ganz Europa versandt."),
        "ru": ("Доставка", "Заказы отправляются по Европе в течение двух рабочих дней."),
    },
}

POSTS = {
    "spring-collection": {
        "en": ("Our spring collection", "Linen, organic cotton and new colours arrive this spring."),
        "de": ("Unsere Frühlingskollektion", "Leinen, Bio-Baumwolle und neue Farben kommen diesen Frühling."),
        "ru": ("Весенняя коллекция", "Этой весной появятся лён, органический хлопок и новые цвета."),
    },
    "caring-for-linen": {
        "en": ("Caring for linen", "Wash linen cold and dry it flat; it softens with every wash."),
        "de": ("Leinen richtig pflegen", "Leinen kalt waschen und liegend trocknen; es wird mit jeder Wäsche weicher."),
    },
}

# The same roles every tenant gets from the write API (admin holds every permission explicitly).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = dict(SEEDED_ROLE_PERMISSIONS)


@dataclass
class SeedReport:
    """Rows inserted per table (0 everywhere on a second run)."""

    inserted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def seed_demo(engine: sa.Engine) -> SeedReport:
    """Insert the demo tenant and its data, in one transaction."""
    report = SeedReport()
    with engine.begin() as conn:
        for model, rows in _rows():
            table = model.__table__
            # executemany needs one key set per statement; rows differ in optional keys.
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                by_keys.setdefault(tuple(sorted(row)), []).append(row)
            for group in by_keys.values():
                statement = insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
                inserted = len(conn.execute(statement, group).all())
                report.inserted[table.name] = report.inserted.get(table.name, 0) + inserted
    return report


def _rows() -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    t = TENANT_ID
    published = _EPOCH
    yield tenancy.Tenant, [{"id": t, "slug": DEMO_SLUG, "name": "Demo Store", "default_locale": "en"}]
    yield tenancy.TenantLocale, [
        {"id": demo_id("locale", loc), "tenant_id": t, "locale": loc, "position": i} for i, loc in enumerate(LOCALES)
    ]
    yield tenancy.TenantModule, [
        {"id": demo_id("module", m), "tenant_id": t, "module": m}
        for m in ("content", "blog", "pages", "forum", "commerce", "flex", "index")
    ]
    yield from _auth_rows(t)
    yield from _category_rows(t)
    yield commerce.Tag, [{"id": demo_id("tag", s), "tenant_id": t, "slug": s, "name": n} for s, n in TAGS.items()]
    yield from _product_rows(t, published)
    yield from _content_rows(t, published)


def _auth_rows(t: UUID) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    users = {"admin": "Demo Admin", "editor": "Erika Editor"}
    yield auth.User, [
        {"id": demo_id("user", u), "tenant_id": t, "email": f"{u}@demo.example", "display_name": name}
        for u, name in users.items()
    ]
    yield auth.Role, [
        {"id": demo_id("role", r), "tenant_id": t, "slug": r, "name": r.title(), "is_system": True} for r in ROLE_PERMISSIONS
    ]
    yield auth.RolePermission, [
        {"id": demo_id("perm", r, p), "tenant_id": t, "role_id": demo_id("role", r), "permission": p}
        for r, perms in ROLE_PERMISSIONS.items() for p in perms if p != "*"
    ]
    yield auth.UserRole, [
        {"id": demo_id("user-role", u), "tenant_id": t, "user_id": demo_id("user", u), "role_id": demo_id("role", u)}
        for u in users
    ]


def _category_rows(t: UUID) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    yield commerce.Category, [
        {"id": demo_id("category", h), "tenant_id": t, "handle": h,
         "parent_id": demo_id("category", parent) if parent else None, "position": i}
        for i, (h, (parent, _)) in enumerate(CATEGORIES.items())
    ]
    yield commerce.CategoryTranslation, [
        {"id": demo_id("category", h, loc), "tenant_id": t, "category_id": demo_id("category", h), "locale": loc, "name": name}
        for h, (_, names) in CATEGORIES.items() for loc, name in names.items()
    ]


def _product_rows(t: UUID, published: datetime) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    products, translations, variants, variant_translations = [], [], [], []
    prices, stock, links, tags = [], [], [], []
    for position, (handle, (category, tag_slugs, texts, sizes, eur, usd)) in enumerate(PRODUCTS.items()):
        pid = demo_id("product", handle)
        products.append({"id": pid, "tenant_id": t, "handle": handle, "status": "published",
                         "vendor": "RusToK Demo", "published_at": published})
        for loc, (title, description) in texts.items():
            translations.append({"id": demo_id("product", handle, loc), "tenant_id": t, "product_id": pid,
                                 "locale": loc, "title": title, "description": description})
        links.append({"id": demo_id("product-category", handle), "tenant_id": t, "product_id": pid,
                      "category_id": demo_id("category", category), "position": position})
        tags += [{"id": demo_id("product-tag", handle, s), "tenant_id": t, "product_id": pid,
                  "tag_id": demo_id("tag", s)} for s in tag_slugs]
        for i, (suffix, size, quantity) in enumerate(sizes):
            vid = demo_id("variant", handle, suffix)
            variants.append({"id": vid, "tenant_id": t, "product_id": pid, "sku": f"{handle.upper()}-{suffix}",
                             "options": {"size": size}, "position": i})
            variant_translations += [
                {"id": demo_id("variant", handle, suffix, loc), "tenant_id": t, "product_id": pid, "variant_id": vid,
                 "locale": loc, "title": f"{texts.get(loc, texts['en'])[0]} — {size}"}
                for loc in texts
            ]
            # Larger sizes cost a little more, so price ranges are real ranges.
            for currency, base in zip(CURRENCIES, (eur, usd), strict=True):
                prices.append({"id": demo_id("price", handle, suffix, currency), "tenant_id": t, "product_id": pid,
                               "variant_id": vid, "currency_code": currency, "amount": base + 200 * i})
            stock.append({"id": demo_id("stock", handle, suffix), "tenant_id": t, "product_id": pid,
                          "variant_id": vid, "location": "default", "stocked_quantity": quantity})
    yield commerce.Product, products
    yield commerce.ProductTranslation, translations
    yield commerce.Variant, variants
    yield commerce.VariantTranslation, variant_translations
    yield commerce.Price, prices
    yield commerce.InventoryLevel, stock
    yield commerce.ProductCategory, links
    yield commerce.ProductTag, tags


def _content_rows(t: UUID, published: datetime) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    news = demo_id("content-category", "news")
    yield content.ContentCategory, [{"id": news, "tenant_id": t, "slug": "news"}]
    yield content.ContentCategoryTranslation, [
        {"id": demo_id("content-category", "news", loc), "tenant_id": t, "category_id": news, "locale": loc, "name": name}
        for loc, name in {"en": "News", "de": "Neuigkeiten", "ru": "Новости"}.items()
    ]
    yield content.ContentTag, [{"id": demo_id("content-tag", "care"), "tenant_id": t, "slug": "care", "name": "Care"}]
    nodes, translations, bodies = [], [], []
    author = demo_id("user", "editor")
    for kind, items in (("page", PAGES), ("post", POSTS)):
        for slug, texts in items.items():
            nid = demo_id("node", kind, slug)
            nodes.append({"id": nid, "tenant_id": t, "kind": kind, "status": "published", "root_id": nid,
                          "author_id": author, "category_id": news if kind == "post" else None,
                          "published_at": published})
            for loc, (title, text) in texts.items():
                localized_slug = slug if loc == "en" else f"{slug}-{loc}"
                translations.append({"id": demo_id("node", kind, slug, loc), "tenant_id": t, "node_id": nid,
                                     "locale": loc, "title": title, "slug": localized_slug, "excerpt": text})
                bodies.append({"id": demo_id("body", kind, slug, loc), "tenant_id": t, "node_id": nid, "locale": loc,
                               "body": f"# {title}\n\n{text}\n", "format": "markdown"})
    post = demo_id("node", "post", "caring-for-linen")
    comment = demo_id("node", "comment", "linen-1")
    nodes.append({"id": comment, "tenant_id": t, "kind": "comment", "status": "published", "parent_id": post,
                  "root_id": post, "author_id": demo_id("user", "admin"), "depth": 1, "published_at": published})
    bodies.append({"id": demo_id("body", "comment", "linen-1", "en"), "tenant_id": t, "node_id": comment,
                   "locale": "en", "body": "Thanks, this worked for my linen shirt!", "format": "markdown"})
    yield content.Node, nodes
    yield content.NodeTranslation, translations
    yield content.NodeBody, bodies
    yield content.NodeTag, [{"id": demo_id("node-tag", "linen"), "tenant_id": t, "node_id": post,
                             "tag_id": demo_id("content-tag", "care")}]
