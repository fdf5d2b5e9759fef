"""Cached facet counts on a real Tantivy index: never older than the index, never another tenant's."""

from __future__ import annotations

from pathlib import Path

from contracts.locale import Locale
from search_api.backends.base import Scope
from search_api.backends.tantivy import TantivyBackend
from search_api.query import parse_product_search
from tests.integration.search_api.catalog import Catalog, category, product

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
