"""Suite ``read_products``: the live rows of ``index_products`` against the write model."""

from __future__ import annotations

from contracts.expectations.base import Scope, SqlSuite
from contracts.expectations.read_rows import ReadTable, read_row_expectations

PRODUCTS = ReadTable(
    doc_type="product", table="index_products", id_column="product_id",
    source="commerce_products", roots="TRUE", name_field="handle",
)


def product_read_suite(scope: Scope) -> SqlSuite:
    return SqlSuite(
        name="read_products",
        query=PRODUCTS.batch_query(scope),
        expectations=tuple(read_row_expectations(PRODUCTS, scope)),
    )
