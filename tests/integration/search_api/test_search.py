"""Product and content search through HTTP, on Tantivy and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from contracts.documents import ProductDocument
from tests.integration.search_api.conftest import World, handles

P = "/v1/products/search"
C = "/v1/content/search"


def _facet(response: Any, name: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in response.json()["facets"][name]}


def _published_at(doc: ProductDocument) -> datetime:
    assert doc.published_at is not None
    return doc.published_at


def test_an_exact_title_match_ranks_above_a_mention_in_a_description(api: TestClient) -> None:
    assert handles(api.get(P, params={"q": "hoodie"}))[:2] == ["zip-hoodie", "canvas-tote"]


def test_every_word_must_match_and_the_last_word_matches_as_a_prefix(api: TestClient) -> None:
    assert handles(api.get(P, params={"q": "organic cott"})) == ["organic-cotton-tee"]
    assert handles(api.get(P, params={"q": "organic mug"})) == []


def test_a_quoted_phrase_matches_only_words_in_that_order(api: TestClient) -> None:
    assert handles(api.get(P, params={"q": '"cotton organic"'})) == []
    assert handles(api.get(P, params={"q": '"organic cotton" shirt '})) == ["organic-cotton-tee"]


def test_category_filter_includes_the_whole_subtree_and_tags_are_alternatives(api: TestClient) -> None:
    apparel = handles(api.get(P, params={"category": "apparel", "limit": 100}))
    assert {"organic-cotton-tee", "zip-hoodie", "basic-sock-00"} <= set(apparel) and "ceramic-mug" not in apparel
    assert len(apparel) == 26
    assert sorted(handles(api.get(P, params={"tag": "new,organic"}))) == ["canvas-tote", "organic-cotton-tee", "zip-hoodie"]


def test_price_range_in_one_currency_stock_and_option_filters(api: TestClient) -> None:
    priced = handles(api.get(P, params={"currency": "USD", "price_min": 1000, "price_max": 3000, "sort": "price_asc"}))
    assert priced == ["ceramic-mug", "organic-cotton-tee"]
    in_stock = set(handles(api.get(P, params={"in_stock": "false", "limit": 100})))
    assert "canvas-tote" in in_stock and "ceramic-mug" not in in_stock
    assert sorted(handles(api.get(P, params={"option.color": "grey,blue"}))) == ["ceramic-mug", "zip-hoodie"]
    assert handles(api.get(P, params={"vendor": "Potter"})) == ["ceramic-mug"]


def test_facet_counts_honour_the_other_filters_but_not_their_own(api: TestClient) -> None:
    response = api.get(P, params={"tag": "bestseller", "in_stock": "true", "facets": "tag,category,in_stock,vendor"})
    assert _facet(response, "category") == {"apparel": 1, "t-shirts": 1, "home": 1, "mugs": 1}
    assert _facet(response, "tag")["bestseller"] == 2 and _facet(response, "tag")["basics"] == 18
    assert _facet(response, "in_stock") == {"true": 2}
    assert _facet(response, "vendor") == {"Acme": 1, "Potter": 1}
    only = api.get("/v1/products/facets", params={"q": "sock", "facets": "option.color"})
    assert only.json()["total"] == 24 and _facet(only, "option.color") == {"black": 12, "white": 12}
    assert "hits" not in only.json()


def test_locale_falls_back_from_region_to_language_to_the_tenant_default(api: TestClient) -> None:
    german = api.get(P, params={"q": "baumwolle", "locale": "de-AT"})
    assert handles(german) == ["organic-cotton-tee"] and german.json()["locale"] == "de"
    assert german.json()["hits"][0]["document"]["title"] == "T-Shirt aus Bio-Baumwolle"
    french = api.get(P, params={"q": "cotton", "locale": "fr-CA"})
    assert french.json()["locale"] == "en" and handles(french) == ["organic-cotton-tee"]


def test_german_words_are_stemmed_in_german(api: TestClient) -> None:
    assert handles(api.get(P, params={"q": "warmer fleece", "locale": "de"})) == ["zip-hoodie"]


def test_snippets_mark_the_matched_words(api: TestClient) -> None:
    hit = api.get(P, params={"q": "organic cotton", "highlight": "true"}).json()["hits"][0]
    assert hit["highlights"]["title"] == "<mark>Organic</mark> <mark>Cotton</mark> T-Shirt"
    assert "<mark>cotton</mark>" in hit["highlights"]["description"]


def test_sorting_by_price_newest_and_title(api: TestClient, world: World) -> None:
    docs = [d for d in world.catalog.documents if isinstance(d, ProductDocument) and d.handle
            and d.tenant_id == world.a.id and d.locale == "en" and d.status == "published"]
    by_price = sorted(docs, key=lambda d: (-d.prices[0].min if d.prices[0].currency == "EUR" else 0, str(d.id)))
    got = handles(api.get(P, params={"sort": "price_desc", "currency": "EUR", "limit": 100}))
    assert got == [d.handle for d in by_price]
    newest = sorted(docs, key=lambda d: (-_published_at(d).timestamp(), str(d.id)))
    assert handles(api.get(P, params={"sort": "newest", "limit": 100})) == [d.handle for d in newest]
    titled = sorted(docs, key=lambda d: (d.title.lower(), str(d.id)))
    assert handles(api.get(P, params={"sort": "title", "limit": 100})) == [d.handle for d in titled]


def test_offset_and_cursor_pages_cover_every_hit_once_with_an_exact_total(api: TestClient) -> None:
    params: dict[str, str | int] = {"category": "socks", "sort": "price_asc", "currency": "EUR", "limit": 5}
    full = handles(api.get(P, params={**params, "limit": 100}))
    assert len(full) == 24
    by_offset = [h for offset in range(0, 25, 5) for h in handles(api.get(P, params={**params, "offset": offset}))]
    assert by_offset == full
    pages, cursor = [], None
    while True:
        response = api.get(P, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.json()["total"] == 24
        pages += handles(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == full


def test_a_cursor_is_refused_with_another_query(api: TestClient) -> None:
    cursor = api.get(P, params={"sort": "newest", "limit": 2}).json()["next_cursor"]
    response = api.get(P, params={"sort": "newest", "limit": 2, "tag": "new", "cursor": cursor})
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "cursor"


def test_content_search_by_kind_author_and_date_range(api: TestClient, world: World) -> None:
    assert handles(api.get(C, params={"q": "cotton", "kind": "post"})) == ["caring-for-cotton", "summer-lookbook"]
    assert sorted(handles(api.get(C, params={"author": world.ids["bob"]}))) == ["shipping-questions", "summer-lookbook"]
    ranged = api.get(C, params={"published_from": "2026-02-01", "published_to": "2026-02-20T00:00:00Z"})
    assert handles(ranged) == ["shipping-questions", "caring-for-cotton"]  # Feb 15, Feb 1; newest first
    facets = api.get(C, params={"kind": "post", "facets": "kind,author,tag"})
    assert _facet(facets, "kind") == {"page": 1, "post": 2, "topic": 1}
    assert _facet(facets, "tag") == {"care": 1, "summer": 1}


def test_get_a_product_by_handle_and_a_page_by_slug(api: TestClient) -> None:
    product = api.get("/v1/products/zip-hoodie", params={"locale": "de"})
    assert product.status_code == 200 and product.json()["document"]["title"] == "Kapuzenpullover mit Reissverschluss"
    page = api.get("/v1/content/page/about")
    assert page.json()["document"]["body_text"].startswith("We make organic cotton")
    missing = api.get("/v1/content/post/about")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_suggest_completes_titles_from_a_prefix(api: TestClient) -> None:
    assert api.get("/v1/suggest", params={"q": "cer"}).json()["suggestions"] == ["Ceramic Mug"]
    assert "Caring for cotton" in api.get("/v1/suggest", params={"q": "cari", "type": "content"}).json()["suggestions"]


def test_several_searches_in_one_request(api: TestClient) -> None:
    body = {"queries": [{"type": "products", "params": {"q": "mug"}},
                        {"type": "content", "params": {"q": "shipping", "kind": ["topic"]}}]}
    results = api.post("/v1/multi-search", json=body).json()["results"]
    assert [r["hits"][0]["document"]["title"] for r in results] == ["Ceramic Mug", "Shipping questions"]
    bad = api.post("/v1/multi-search", json={"queries": [{"type": "products", "params": {"limit": "x"}}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "queries[0].params.limit"
