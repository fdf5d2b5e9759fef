"""Which filters a facet's cached counts depend on (pure)."""

from __future__ import annotations

from uuid import UUID

from contracts.locale import Locale
from search_api.backends.base import Scope
from search_api.backends.facet_cache import disjunctive_key, facet_key
from search_api.query import parse_content_search, parse_product_search, without_filter

SCOPE = Scope(UUID(int=1), Locale("en"))

def test_a_filtered_facet_shares_its_counts_across_values_of_its_own_filter() -> None:
    hats = parse_product_search({"q": ["wool"], "category": ["hats"], "in_stock": ["true"], "facets": ["category,tag"]})
    coats = parse_product_search({"q": ["wool"], "category": ["coats"], "in_stock": ["true"], "facets": ["category"]})
    assert disjunctive_key("product", 1, SCOPE, hats, "category") == disjunctive_key("product", 1, SCOPE, coats, "category")
    # The total and the other facets do depend on the category chosen.
    assert facet_key("product", 1, SCOPE, hats) != facet_key("product", 1, SCOPE, coats)

def test_a_filtered_facets_counts_depend_on_every_other_filter_the_words_and_the_scope() -> None:
    base = {"q": ["wool"], "category": ["hats"], "facets": ["category"]}
    key = disjunctive_key("product", 1, SCOPE, parse_product_search(base), "category")
    variants = [parse_product_search(base | {"in_stock": ["true"]}), parse_product_search(base | {"q": ["linen"]}),
                parse_product_search(base | {"option.color": ["red"]}), parse_product_search(base | {"facet_size": ["5"]}),
                parse_product_search(base | {"currency": ["EUR"], "price_min": ["100"]})]
    assert all(disjunctive_key("product", 1, SCOPE, v, "category") != key for v in variants)
    request = parse_product_search(base)
    assert disjunctive_key("product", 2, SCOPE, request, "category") != key  # a newer index
    assert disjunctive_key("product", 1, Scope(UUID(int=2), Locale("en")), request, "category") != key
    assert disjunctive_key("product", 1, Scope(SCOPE.tenant_id, Locale("de")), request, "category") != key

def test_without_filter_clears_only_the_facets_own_filter() -> None:
    request = parse_product_search({"category": ["hats"], "tag": ["knit"], "in_stock": ["false"],
                                    "option.color": ["red"], "option.size": ["M"]})
    assert without_filter(request, "in_stock").product_filters.in_stock is None
    assert without_filter(request, "in_stock").product_filters.categories == ("hats",)
    assert without_filter(request, "option.color").product_filters.options == (("size", ("M",)),)
    assert without_filter(request, "tag").product_filters.tags == ()
    content = parse_content_search({"kind": ["post"], "author": ["ann"], "tag": ["news"]})
    assert without_filter(content, "kind").content_filters.kinds == ()
    assert without_filter(content, "kind").content_filters.authors == ("ann",)
