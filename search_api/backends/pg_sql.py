"""SQL fragments for the PostgreSQL read tables (pure: builds text and parameters).

Every fragment is constant text from this module; user values travel only as
parameters. ``Where`` keeps each filter under its facet name so facet counts can drop
their own filter (disjunctive facets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.locale import text_search_config
from search_api.backends.base import Scope
from search_api.query import OPTION_PREFIX, SearchRequest
from search_api.text import TextQuery

Clause = tuple[str, list[Any]]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    id_column: str
    doc_type: str


PRODUCTS = Table("index_products", "product_id", "product")
CONTENT = Table("index_content", "node_id", "content")

# Newest: whole seconds of published_at, as Tantivy's date fast fields keep them.
_NEWEST = "extract(epoch FROM date_trunc('second', (document->>'published_at')::timestamptz))::bigint"
_TITLE = "nullif(lower(document->>'title'), '') COLLATE \"C\""
_PRICE = ("(SELECT (p->>'min')::bigint FROM jsonb_array_elements(document->'prices') p"
          " WHERE p->>'currency' = %s LIMIT 1)")

# facet name → SQL producing one row per facet value of a document (FROM-clause item)
PRODUCT_FACET_VALUES = {
    "category": "jsonb_array_elements_text(document->'category_handles')",
    "tag": "jsonb_array_elements_text(document->'tag_slugs')",
    "vendor": "(SELECT document->>'vendor' WHERE document->>'vendor' IS NOT NULL)",
    "product_type": "(SELECT document->>'product_type' WHERE document->>'product_type' IS NOT NULL)",
    "in_stock": "(SELECT coalesce(document->>'in_stock', 'false'))",
}
CONTENT_FACET_VALUES = {
    "kind": "(SELECT kind)",
    "category": "(SELECT document->'category'->>'slug' WHERE document->'category'->>'slug' IS NOT NULL)",
    "tag": "jsonb_array_elements_text(document->'tag_slugs')",
    "author": "(SELECT document->'author'->>'id' WHERE document->'author'->>'id' IS NOT NULL)",
}
OPTION_FACET_VALUES = "jsonb_array_elements_text(coalesce(document->'options'->%s, '[]'::jsonb))"


@dataclass(slots=True)
class Where:
    clauses: dict[str, Clause] = field(default_factory=dict)

    def add(self, name: str, sql: str, params: list[Any]) -> None:
        self.clauses[name] = (sql, params)

    def render(self, without: str | None = None) -> Clause:
        parts = [(sql, params) for name, (sql, params) in self.clauses.items() if name != without]
        return " AND ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]


def scope_where(table: Table, scope: Scope) -> Where:
    where = Where()
    where.add("_scope", "index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = %s)"
                        " AND tenant_id = %s AND locale = %s AND status = ANY(%s)",
              [table.doc_type, scope.tenant_id, scope.locale, list(scope.statuses)])
    return where


def tsquery_text(text: TextQuery) -> str:
    """A to_tsquery() argument: words are \\w+ only, so quoting them is enough."""
    parts = []
    for index, term in enumerate(text.terms):
        last = index == len(text.terms) - 1
        parts.append(f"'{term}':*" if last and text.prefix_last else f"'{term}'")
    parts += ["(" + " <-> ".join(f"'{w}'" for w in phrase) + ")" for phrase in text.phrases]
    return " & ".join(parts)


def request_where(table: Table, scope: Scope, request: SearchRequest) -> Where:
    where = scope_where(table, scope)
    if not request.text.is_empty:
        where.add("_text", "search_vector @@ to_tsquery(%s::regconfig, %s)",
                  [text_search_config(scope.locale), tsquery_text(request.text)])
    if table is PRODUCTS:
        _product_filters(where, request)
    else:
        _content_filters(where, request)
    return where


def _product_filters(where: Where, request: SearchRequest) -> None:
    f = request.product_filters
    if f.categories:
        where.add("category", "document->'category_handles' ?| %s", [list(f.categories)])
    if f.tags:
        where.add("tag", "document->'tag_slugs' ?| %s", [list(f.tags)])
    if f.vendors:
        where.add("vendor", "document->>'vendor' = ANY(%s)", [list(f.vendors)])
    if f.product_types:
        where.add("product_type", "document->>'product_type' = ANY(%s)", [list(f.product_types)])
    if f.in_stock is not None:
        where.add("in_stock", "coalesce((document->>'in_stock')::boolean, false) = %s", [f.in_stock])
    for name, values in f.options:
        where.add(OPTION_PREFIX + name, "document->'options'->%s ?| %s", [name, list(values)])
    currency = f.price.currency if f.price else request.currency
    if f.price is not None or request.sort in ("price_asc", "price_desc"):
        low = f.price.min if f.price and f.price.min is not None else 0
        high = f.price.max if f.price and f.price.max is not None else 2**62
        where.add("_price", f"{_PRICE} BETWEEN %s AND %s", [currency, low, high])


def _content_filters(where: Where, request: SearchRequest) -> None:
    f = request.content_filters
    if f.kinds:
        where.add("kind", "kind = ANY(%s)", [list(f.kinds)])
    if f.categories:
        where.add("category", "document->'category'->>'slug' = ANY(%s)", [list(f.categories)])
    if f.tags:
        where.add("tag", "document->'tag_slugs' ?| %s", [list(f.tags)])
    if f.authors:
        where.add("author", "document->'author'->>'id' = ANY(%s)", [list(f.authors)])
    if f.published_from is not None:
        where.add("_from", "published_at >= %s", [f.published_from])
    if f.published_to is not None:
        where.add("_to", "published_at <= %s", [f.published_to])


def sort_expression(request: SearchRequest) -> Clause:
    """The SQL of the sort key and its parameters (None for relevance)."""
    if request.sort in ("price_asc", "price_desc"):
        return _PRICE, [request.currency]
    if request.sort == "title":
        return _TITLE, []
    return _NEWEST, []


def descending(request: SearchRequest) -> bool:
    return request.sort in ("price_desc", "newest")


def facet_values_sql(table: Table, facet: str) -> Clause:
    if facet.startswith(OPTION_PREFIX):
        return OPTION_FACET_VALUES, [facet[len(OPTION_PREFIX):]]
    values = PRODUCT_FACET_VALUES if table is PRODUCTS else CONTENT_FACET_VALUES
    return values[facet], []
