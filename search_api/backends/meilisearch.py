"""Meilisearch backend (optional, when ``RUSTOK_SEARCH_MEILISEARCH_URL`` is set).

One index per document type (``rustok_product``, ``rustok_content``) holding the
contract documents with a ``uid`` of ``<tenant>_<locale>_<id>`` and the filterable
attributes used below; the pipeline's Meilisearch sink owns that layout. The request
is translated to Meilisearch's search parameters by the pure ``translate``; the tenant,
locale and status filters are always prepended and cannot be removed by the request.
Meilisearch has its own typo rules (1 typo from 5 letters, 2 from 9), which match
ours; facet counts are not disjunctive there (they honour every filter).
"""

from __future__ import annotations

from typing import Any

from search_api.backends.base import FacetValue, Hit, Scope, SearchResult, next_cursor, sort_facet
from search_api.errors import BackendUnavailable
from search_api.query import DocType, SearchRequest
from search_api.settings import SearchSettings

_FACET_ATTRIBUTES = {
    "product": {"category": "category_handles", "tag": "tag_slugs", "vendor": "vendor", "product_type": "product_type",
                "in_stock": "in_stock"},
    "content": {"kind": "kind", "category": "category.slug", "tag": "tag_slugs", "author": "author.id"},
}


def _quote(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _any_of(attribute: str, values: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"{attribute} = {_quote(v)}" for v in values) + ")"


def translate(scope: Scope, request: SearchRequest) -> dict[str, Any]:
    """Meilisearch search parameters for ``request`` inside ``scope`` (pure)."""
    filters = [f"tenant_id = {_quote(scope.tenant_id)}", f"locale = {_quote(scope.locale)}",
               _any_of("status", tuple(scope.statuses))]
    if request.doc_type == "product":
        f = request.product_filters
        for attribute, values in (("category_handles", f.categories), ("tag_slugs", f.tags), ("vendor", f.vendors),
                                  ("product_type", f.product_types)):
            if values:
                filters.append(_any_of(attribute, values))
        if f.in_stock is not None:
            filters.append(f"in_stock = {'true' if f.in_stock else 'false'}")
        for name, values in f.options:
            filters.append(_any_of(f"options.{name}", values))
        if f.price is not None:
            field = f"price_min.{f.price.currency}"
            filters.append(f"{field} >= {f.price.min or 0}" + (f" AND {field} <= {f.price.max}" if f.price.max is not None else ""))
    else:
        c = request.content_filters
        for attribute, values in (("kind", c.kinds), ("category.slug", c.categories), ("tag_slugs", c.tags),
                                  ("author.id", c.authors)):
            if values:
                filters.append(_any_of(attribute, tuple(values)))
        if c.published_from is not None:
            filters.append(f"published_ts >= {int(c.published_from.timestamp())}")
        if c.published_to is not None:
            filters.append(f"published_ts <= {int(c.published_to.timestamp())}")
    params: dict[str, Any] = {"filter": filters, "limit": request.page.limit,
                              "offset": request.page.cursor.offset if request.page.cursor else request.page.offset,
                              "facets": [_FACET_ATTRIBUTES[request.doc_type].get(name, name) for name in request.facets]}
    sort = {"price_asc": f"price_min.{request.currency}:asc", "price_desc": f"price_min.{request.currency}:desc",
            "newest": "published_ts:desc", "title": "title_sort:asc"}.get(request.sort)
    if sort is not None:
        params["sort"] = [sort, "id:asc"]
    if request.highlight:
        params["attributesToHighlight"] = ["title", "description", "excerpt", "body_text"]
    return params


def query_text(request: SearchRequest) -> str:
    words = list(request.text.terms) + ['"' + " ".join(p) + '"' for p in request.text.phrases]
    return " ".join(words)


class MeilisearchBackend:
    name = "meilisearch"

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: SearchSettings) -> MeilisearchBackend:
        import meilisearch

        if settings.meilisearch_url is None:
            raise BackendUnavailable("RUSTOK_SEARCH_MEILISEARCH_URL is not set")
        key = settings.meilisearch_key.get_secret_value() if settings.meilisearch_key else None
        return cls(meilisearch.Client(settings.meilisearch_url, key))

    def answers_from_memory(self, doc_type: DocType) -> bool:
        return False  # every search is an HTTP request to Meilisearch

    def search(self, scope: Scope, request: SearchRequest) -> SearchResult:
        params = translate(scope, request)
        answer = self._client.index(f"rustok_{request.doc_type}").search(query_text(request), params)
        hits = [Hit(id=str(h["id"]), document=h) for h in answer.get("hits", [])]
        total = int(answer.get("estimatedTotalHits", answer.get("totalHits", len(hits))))
        names = {v: k for k, v in _FACET_ATTRIBUTES[request.doc_type].items()}
        facets: dict[str, list[FacetValue]] = {
            names.get(attr, attr): sort_facet({str(k): int(v) for k, v in counts.items()}, request.facet_size)
            for attr, counts in answer.get("facetDistribution", {}).items()}
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor(request, hits, total))

    def suggest(self, scope: Scope, doc_type: DocType, prefix: str, limit: int) -> list[str]:
        filters = [f"tenant_id = {_quote(scope.tenant_id)}", f"locale = {_quote(scope.locale)}",
                   _any_of("status", tuple(scope.statuses))]
        answer = self._client.index(f"rustok_{doc_type}").search(prefix, {"filter": filters, "limit": limit,
                                                                           "attributesToRetrieve": ["title"]})
        return list(dict.fromkeys(str(h["title"]) for h in answer.get("hits", []) if h.get("title")))

    def close(self) -> None:
        """The HTTP client holds no resources that need closing."""
