"""Cached facet counts on a real Tantivy index: never older than the index, never another tenant's."""

from __future__ import annotations

from pathlib import Path

from contracts.locale import Locale
from search_api.backends.base import Scope
from search_api.backends.tantivy import TantivyBackend
from search_api.query import parse_product_search
from tests.integration.search_api.catalog import Catalog, TenantInfo, category, product

HATS = category(["apparel", "hats"])


def _counts(backend: TantivyBackend, scope: Scope) -> tuple[int, dict[str, int]]:
    request = parse_product_search({"q": ["wool"], "category": ["apparel"], "facets": ["category,tag"]})
    result = backend.search(scope, request)
    return result.total, {v.value: v.count for v in result.facets["tag"]}


def test_facet_counts_follow_a_commit_made_after_they_were_cached(database_url: str, tmp_path: Path) -> None:
    catalog = Catalog(database_url, tmp_path)
    shop = catalog.tenant("shop")
    catalog.publish([product(shop, "hat-1", "Wool hat", categories=[HATS], tags=["winter"])])
    backend = TantivyBackend(tmp_path, lambda _: 1)
    scope = Scope(shop.id, Locale("en"))
    assert _counts(backend, scope) == (1, {"winter": 1})
    assert _counts(backend, scope) == (1, {"winter": 1})  # answered from the cache

    catalog.publish([product(shop, "hat-2", "Wool beanie", categories=[HATS], tags=["winter", "knit"])])

    assert _counts(backend, scope) == (2, {"winter": 2, "knit": 1})
    backend.close()


def test_cached_facet_counts_are_never_answered_to_another_tenant(database_url: str, tmp_path: Path) -> None:
    catalog = Catalog(database_url, tmp_path)
    shop, other = catalog.tenant("shop"), catalog.tenant("other")
    catalog.publish([product(shop, "hat-1", "Wool hat", categories=[HATS], tags=["winter"]),
                     product(other, "hat-1", "Wool hat", categories=[HATS], tags=["summer"]),
                     product(other, "hat-2", "Wool cap", categories=[HATS], tags=["summer"])])
    backend = TantivyBackend(tmp_path, lambda _: 1)

    assert _counts(backend, Scope(shop.id, Locale("en"))) == (1, {"winter": 1})
    assert _counts(backend, Scope(other.id, Locale("en"))) == (2, {"summer": 2})
    backend.close()


COATS, BOOTS = category(["apparel", "coats"]), category(["apparel", "boots"])
MUGS = category(["home", "mugs"])


def _shop(catalog: Catalog, slug: str) -> TenantInfo:
    shop = catalog.tenant(slug)
    docs = []
    for n in range(24):
        cat = (HATS, COATS, BOOTS, MUGS)[n % 4]
        tags = ["winter", "summer", "knit"][: 1 + n % 3]
        docs.append(product(shop, f"p-{n}", f"Wool item {n}" if n % 5 else f"Linen item {n}", categories=[cat],
                            tags=tags, stock=n % 3, options={"color": [("red", "blue")[n % 2]]}))
    catalog.publish(docs)
    return shop


# A shopper's walk: the same words, one filter changed at a time; each request shares the
# counts of a filtered facet with one before it (categories, tags, colours, stock).
WALK = [
    {"q": ["wool"], "category": ["hats"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["coats"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["coats"], "tag": ["knit"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["boots"], "tag": ["knit"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["boots"], "tag": ["summer"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["boots"], "tag": ["summer"], "in_stock": ["true"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["boots"], "tag": ["summer"], "in_stock": ["false"], "facets": ["category,tag,in_stock"]},
    {"q": ["wool"], "category": ["apparel"], "option.color": ["red"], "facets": ["category,option.color"]},
    {"q": ["wool"], "category": ["apparel"], "option.color": ["blue"], "facets": ["category,option.color"]},
    {"q": ["wool"], "category": ["mugs"], "option.color": ["blue"], "facets": ["category,option.color"]},
    {"q": ["linen"], "category": ["mugs"], "option.color": ["blue"], "facets": ["category,option.color"]},
    {"q": ["wool"], "category": ["hats"], "facets": ["tag"]},
    {"q": ["wool"], "category": ["coats"], "facets": ["category,tag,in_stock"]},
]


def _answer(backend: TantivyBackend, scope: Scope, params: dict[str, list[str]]) -> tuple[int, dict[str, dict[str, int]]]:
    result = backend.search(scope, parse_product_search(params))
    return result.total, {name: {v.value: v.count for v in values} for name, values in result.facets.items()}


def test_counts_read_back_in_parts_equal_counts_made_afresh(database_url: str, tmp_path: Path) -> None:
    catalog = Catalog(database_url, tmp_path)
    shop = _shop(catalog, "shop")
    scope = Scope(shop.id, Locale("en"))
    cached, fresh = TantivyBackend(tmp_path, lambda _: 1), TantivyBackend(tmp_path, lambda _: 1, facet_cache_size=0)
    for params in WALK + WALK[::-1]:
        assert _answer(cached, scope, params) == _answer(fresh, scope, params), params
    # Parts were read back: fewer filtered facets' counts were kept than the walk asked for.
    asked = sum(1 for params in WALK for facet in params["facets"][0].split(",") if facet in params)
    assert len(cached._disjunctive._items) < asked
    cached.close()
    fresh.close()


def test_a_filtered_facets_counts_follow_a_commit_and_stay_in_their_tenant(database_url: str, tmp_path: Path) -> None:
    catalog = Catalog(database_url, tmp_path)
    shop, other = _shop(catalog, "shop"), _shop(catalog, "other")
    backend = TantivyBackend(tmp_path, lambda _: 1)
    hats = {"q": ["wool"], "category": ["hats"], "facets": ["category"]}
    coats = {"q": ["wool"], "category": ["coats"], "facets": ["category"]}
    mine, theirs = Scope(shop.id, Locale("en")), Scope(other.id, Locale("en"))
    before = _answer(backend, mine, hats)[1]["category"]

    catalog.publish([product(other, "extra", "Wool extra", categories=[COATS])])
    assert _answer(backend, mine, coats)[1]["category"] == before  # the other shop's product is not counted here
    assert _answer(backend, theirs, coats)[1]["category"]["coats"] == before["coats"] + 1

    catalog.publish([product(shop, "extra", "Wool extra", categories=[HATS])])
    assert _answer(backend, mine, coats)[1]["category"]["hats"] == before["hats"] + 1
    backend.close()
