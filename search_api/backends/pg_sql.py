"""SQL fragments for the PostgreSQL read tables (pure: builds text and parameters).

Every fragment is constant text from this module; user values travel only as
parameters. ``Where`` keeps each filter under its facet name so facet counts can drop
their own filter (disjunctive facets).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import orjson

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
    facet_columns: tuple[str, ...] = ()  # columns besides ``document`` the facet value expressions read


PRODUCTS = Table("index_products", "product_id", "product")
CONTENT = Table("index_content", "node_id", "content", ("kind",))

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
# facet name → the top-level document key its value expression reads (None: a column)
FACET_KEYS: dict[str, dict[str, str | None]] = {
    "product": {"category": "category_handles", "tag": "tag_slugs", "vendor": "vendor", "product_type": "product_type",
                "in_stock": "in_stock"},
    "content": {"kind": None, "category": "category", "tag": "tag_slugs", "author": "author"},
}


@dataclass(slots=True)
class Where:
    clauses: dict[str, Clause] = field(default_factory=dict)

    def add(self, name: str, sql: str, params: list[Any]) -> None:
        self.clauses[name] = (sql, params)

    def render(self, without: Collection[str] = ()) -> Clause:
        parts = [(sql, params) for name, (sql, params) in self.clauses.items() if name not in without]
        return " AND ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]


def totals_and_facets_sql(table: Table, where: Where, facets: tuple[str, ...]) -> Clause:
    """One statement, one pass over the rows, for the total and every facet's counts.

    Rows are those matching every filter except the active filters of requested facets
    (a facet's counts leave out its own filter); those filters become boolean columns.
    The result rows are ``(-1, NULL, total)`` and ``(facet position, value, count)``.
    """
    own = [name for name in facets if name in where.clauses]
    base_sql, base_params = where.render(without=own)
    flags = [f"({where.clauses[name][0]}) AS f{i}" for i, name in enumerate(own)]
    flag_params = [p for name in own for p in where.clauses[name][1]]

    def all_flags(but: str | None = None) -> str:
        return " AND ".join([f"f{i}" for i, name in enumerate(own) if name != but] or ["true"])

    parts = [f"SELECT -1, NULL::text, count(*) FILTER (WHERE {all_flags()}) FROM base"]
    params: list[Any] = [*flag_params, *base_params]
    for position, name in enumerate(facets):
        values_sql, values_params = facet_values_sql(table, name)
        parts.append(f"SELECT {position}, v, count(*) FROM base, LATERAL {values_sql} AS f(v)"
                     f" WHERE {all_flags(but=name)} GROUP BY v")
        params += values_params
    select = ", ".join([_slim_document(table, facets), *table.facet_columns, *flags])
    sql = (f"WITH base AS MATERIALIZED (SELECT {select} FROM {table.name} WHERE {base_sql}) "
           + " UNION ALL ".join(parts))
    return sql, params


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
        where.add(*_contains_any("category", [{"category_handles": [v]} for v in f.categories]))
    if f.tags:
        where.add(*_contains_any("tag", [{"tag_slugs": [v]} for v in f.tags]))
    if f.vendors:
        where.add(*_contains_any("vendor", [{"vendor": v} for v in f.vendors]))
    if f.product_types:
        where.add(*_contains_any("product_type", [{"product_type": v} for v in f.product_types]))
    if f.in_stock is not None:
        # A missing in_stock reads as false, so "not in stock" is the negation of containment.
        where.add("in_stock", ("" if f.in_stock else "NOT ") + "document @> '{\"in_stock\": true}'::jsonb", [])
    for name, values in f.options:
        where.add(*_contains_any(OPTION_PREFIX + name, [{"options": {name: [v]}} for v in values]))
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
        where.add(*_contains_any("category", [{"category": {"slug": v}} for v in f.categories]))
    if f.tags:
        where.add(*_contains_any("tag", [{"tag_slugs": [v]} for v in f.tags]))
    if f.authors:
        where.add(*_contains_any("author", [{"author": {"id": v}} for v in f.authors]))
    if f.published_from is not None:
        where.add("_from", "published_at >= %s", [f.published_from])
    if f.published_to is not None:
        where.add("_to", "published_at <= %s", [f.published_to])


def _contains_any(name: str, shapes: list[dict[str, Any]]) -> tuple[str, str, list[Any]]:
    """``document`` contains one of ``shapes``: answered by the jsonb_path_ops GIN index
    (one bitmap scan per value, OR-ed), where ``->>`` comparisons and ``?|`` are not."""
    return name, "document @> ANY(%s::jsonb[])", [[orjson.dumps(shape).decode() for shape in shapes]]


def _slim_document(table: Table, facets: tuple[str, ...]) -> str:
    """Only the keys the facets read: the matching rows are kept for several passes, and
    whole documents (descriptions and all) would spill them to disk."""
    keys = dict.fromkeys("options" if f.startswith(OPTION_PREFIX) else FACET_KEYS[table.doc_type][f] for f in facets)
    pairs = ", ".join(f"'{k}', document->'{k}'" for k in keys if k is not None)
    return f"jsonb_build_object({pairs}) AS document"


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
