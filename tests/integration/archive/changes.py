"""Writes for the archive tests, through SQL: a second tenant, its products, and the
kinds of change an archive must keep (multi-row transactions, updates, deletes, a
truncate)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pyarrow.dataset as ds

from contracts.ids import new_id
from rustok import demo
from tests.integration.runtime.readmodel import IGNORED, applied_lsn

Conn = psycopg.Connection[tuple[object, ...]]


def add_tenant(conn: Conn, slug: str) -> UUID:
    """A tenant with English only and the commerce and content modules (one transaction)."""
    tenant = new_id()
    with conn.transaction():
        conn.execute("INSERT INTO tenants (id, slug, name, default_locale) VALUES (%s, %s, %s, 'en')",
                     (tenant, slug, slug.title()))
        conn.execute("INSERT INTO tenant_locales (id, tenant_id, locale, position) VALUES (%s, %s, 'en', 0)",
                     (new_id(), tenant))
        for module in ("content", "commerce", "index"):
            conn.execute("INSERT INTO tenant_modules (id, tenant_id, module) VALUES (%s, %s, %s)",
                         (new_id(), tenant, module))
    return tenant


def add_product(conn: Conn, tenant: UUID, handle: str, title: str, amount: int = 1000) -> UUID:
    """A published product with one variant and a EUR price (one transaction)."""
    product, variant = new_id(), new_id()
    with conn.transaction():
        conn.execute("INSERT INTO commerce_products (id, tenant_id, handle, status, published_at)"
                     " VALUES (%s, %s, %s, 'published', now())", (product, tenant, handle))
        conn.execute("INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title)"
                     " VALUES (%s, %s, %s, 'en', %s)", (new_id(), tenant, product, title))
        conn.execute("INSERT INTO commerce_variants (id, tenant_id, product_id, sku) VALUES (%s, %s, %s, %s)",
                     (variant, tenant, product, handle.upper()))
        conn.execute("INSERT INTO commerce_prices (id, tenant_id, product_id, variant_id, currency_code, amount)"
                     " VALUES (%s, %s, %s, %s, 'EUR', %s)", (new_id(), tenant, product, variant, amount))
    return product


def rename(conn: Conn, product: UUID | str, title: str, locale: str = "en") -> None:
    conn.execute("UPDATE commerce_product_translations SET title = %s WHERE product_id = %s AND locale = %s",
                 (title, product, locale))


def delete_product(conn: Conn, product: UUID | str) -> None:
    with conn.transaction():
        for table in ("commerce_prices", "commerce_inventory_levels", "commerce_variant_translations",
                      "commerce_variants", "commerce_product_translations", "commerce_product_categories",
                      "commerce_product_tags"):
            conn.execute(f"DELETE FROM {table} WHERE product_id = %s", (product,))
        conn.execute("DELETE FROM commerce_products WHERE id = %s", (product,))


def wal_lsn(conn: Conn) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(str(row[0]))


def wait_applied(database_url: str, lsn: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while applied_lsn(database_url) < lsn:
        if time.monotonic() > deadline:
            raise AssertionError(f"the pipeline did not apply {lsn} in time")
        time.sleep(0.02)


def version_documents(database_url: str, doc_type: str, version: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The documents of one index version (live or not), by (tenant, locale, id)."""
    table, id_column = ("index_products", "product_id") if doc_type == "product" else ("index_content", "node_id")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT tenant_id::text, locale, {id_column}::text, document FROM {table}"
                            " WHERE index_version = %s", (version,)).fetchall()
    return {(t, loc, i): {k: v for k, v in doc.items() if k not in IGNORED} for t, loc, i, doc in rows}


def archived_rows(directory: Path) -> list[dict[str, Any]]:
    """Every archived row, with its hive partition columns, in write order."""
    table = ds.dataset(directory, format="parquet", partitioning="hive").to_table()
    return sorted(table.to_pylist(), key=lambda row: int(row["seq"]))


DEMO_TENANT = str(demo.TENANT_ID)
