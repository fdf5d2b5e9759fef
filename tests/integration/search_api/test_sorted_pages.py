"""Sorted pages on a real Tantivy index: every window and every cursor page of a sort by
newest or price is the (key, id) order the PostgreSQL backend gives, with large groups
of equal keys across page boundaries and documents without a key last (a price sort
leaves out the documents without a price in its currency).

Tantivy orders by one fast field only; the backend finds the boundary's tie group three
ways (complete in the fetched rows, a small group read unordered, a large one ordered by
id), and each is exercised here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.documents import ProductDocument
from contracts.locale import Locale
from search_api.backends import tantivy as tantivy_backend
from search_api.backends.base import Scope
from search_api.backends.tantivy import TantivyBackend
from search_api.cursor import encode_cursor
from search_api.query import parse_product_search
from tests.integration.search_api.catalog import Catalog, product

# published_days per published product: a group of 12 equal days, a group of 6, singles.
DAYS = [3] * 12 + [1] * 6 + list(range(5, 17))
# EUR price per product (None: a USD price only): groups of 10 and 8, singles, and absent.
EUR = [1000] * 10 + [1500] * 8 + [2000 + i for i in range(12)] + [None] * 4


@pytest.fixture(scope="module")
def shelf(search_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TantivyBackend, Scope,
                                                                                          list[ProductDocument]]]:
    root = tmp_path_factory.mktemp("sorted-pages")
    catalog = Catalog(search_db_url, root)
    shop = catalog.tenant("sorted-shop")
    docs = []
    for n, price in enumerate(EUR):
        published = n < len(DAYS)
        docs.append(product(shop, f"item-{n:02d}", f"Item {n:02d}", status="published" if published else "draft",
                            published_days=DAYS[n] if published else 0,
                            prices={"EUR": price} if price is not None else {"USD": 900}))
    catalog.publish(docs)
    backend = TantivyBackend(root, lambda _: 1)
    yield backend, Scope(shop.id, Locale("en"), statuses=("published", "draft")), docs
    backend.close()


def _expected(docs: list[ProductDocument], sort: str) -> list[str]:
    def key(doc: ProductDocument) -> Any:
        if sort == "newest":
            return doc.published_at.timestamp() if doc.published_at else None
        return next((p.min for p in doc.prices if p.currency == "EUR"), None)

    desc = sort in ("newest", "price_desc")
    with_key = [d for d in docs if key(d) is not None]
    without = [d for d in docs if key(d) is None]
    ordered = sorted(with_key, key=lambda d: (-key(d) if desc else key(d), str(d.id)))
    if sort != "newest":  # a price sort keeps only the documents priced in its currency
        without = []
    return [str(d.id) for d in ordered + sorted(without, key=lambda d: str(d.id))]


SORTS = [{"sort": "newest"}, {"sort": "price_asc", "currency": "EUR"}, {"sort": "price_desc", "currency": "EUR"}]


def _windows_and_cursor_pages(backend: TantivyBackend, scope: Scope, docs: list[ProductDocument],
                              params: dict[str, str]) -> None:
    expected = _expected(docs, params["sort"])
    for limit in (1, 3, 5, 8):
        for offset in range(0, len(expected) + limit, limit):
            request = parse_product_search({**{k: [v] for k, v in params.items()}, "limit": [str(limit)],
                                            "offset": [str(offset)]})
            result = backend.search(scope, request)
            assert [h.id for h in result.hits] == expected[offset:offset + limit], (limit, offset)
            assert result.total == len(expected)
    seen: list[str] = []
    request = parse_product_search({**{k: [v] for k, v in params.items()}, "limit": ["5"]})
    while True:
        result = backend.search(scope, request)
        seen += [h.id for h in result.hits]
        if result.next_cursor is None:
            break
        token = encode_cursor(request.fingerprint(), result.next_cursor)
        request = parse_product_search({**{k: [v] for k, v in params.items()}, "limit": ["5"], "cursor": [token]})
    assert seen == expected


@pytest.mark.parametrize("params", SORTS, ids=lambda p: p["sort"])
def test_every_window_and_cursor_page_follows_key_then_id(shelf: Any, params: dict[str, str]) -> None:
    _windows_and_cursor_pages(*shelf, params)


@pytest.mark.parametrize("params", SORTS, ids=lambda p: p["sort"])
def test_tie_groups_too_large_to_read_unordered_give_the_same_pages(shelf: Any, params: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tantivy_backend, "_SMALL_TIE_GROUP", 2)
    _windows_and_cursor_pages(*shelf, params)


def test_the_sorted_page_of_a_tenant_holds_none_of_another_tenants_documents(search_db_url: str,
                                                                          tmp_path: Path) -> None:
    catalog = Catalog(search_db_url, tmp_path)
    shop, other = catalog.tenant("tie-shop"), catalog.tenant("tie-other")
    catalog.publish([product(t, f"same-{n}", f"Same {n}", published_days=2) for t in (shop, other) for n in range(6)])
    backend = TantivyBackend(tmp_path, lambda _: 1)
    mine = {str(d.id) for d in catalog.documents if d.tenant_id == shop.id}
    for offset in range(0, 8, 2):
        request = parse_product_search({"sort": ["newest"], "limit": ["2"], "offset": [str(offset)]})
        result = backend.search(Scope(shop.id, Locale("en")), request)
        assert {h.id for h in result.hits} <= mine
        assert result.total == 6
    backend.close()
