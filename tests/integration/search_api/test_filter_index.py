"""The PostgreSQL backend's filters are answered by the filter GIN indexes (migration 0014):
a filter written in another form than the indexed expression would scan every row of
the tenant's locale instead, which no result shows and every storefront would feel."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from search_api.backends.base import Scope
from search_api.backends.pg_sql import CONTENT, PRODUCTS, Table, request_where
from search_api.query import parse_content_search, parse_product_search

PRODUCT_FILTERS = {"category": ["shirts"], "tag": ["linen"], "vendor": ["Acme"], "product_type": ["shirt"],
                   "option.size": ["M"], "in_stock": ["true"]}
CONTENT_FILTERS = {"category": ["news"], "tag": ["launch"], "author": [str(uuid.uuid4())]}


@pytest.mark.parametrize(("table", "index", "params"), [
    *[(PRODUCTS, "ix_index_products_filters", {name: values}) for name, values in PRODUCT_FILTERS.items()],
    *[(CONTENT, "ix_index_content_filters", {name: values}) for name, values in CONTENT_FILTERS.items()],
])
def test_each_filter_is_answered_by_the_filter_index(database_url: str, table: Table, index: str,
                                                     params: dict[str, list[str]]) -> None:
    request = (parse_product_search if table is PRODUCTS else parse_content_search)(params)
    name = next(iter(params))
    sql, values = request_where(table, Scope(uuid.uuid4(), "en"), request).render(without=("_scope",))
    assert sql, f"{name} made no filter"
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")  # the tables are empty: only a usable index avoids a scan
        plan = "\n".join(str(row[0]) for row in conn.execute(f"EXPLAIN SELECT 1 FROM {table.name} WHERE {sql}",
                                                                values).fetchall())
    assert index in plan, plan
