"""Comparing index versions: row checksums of the JSONB tables and Tantivy document sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from tests.integration.runtime.readmodel import tantivy_documents
from tests.integration.runtime.readmodel import wal_position as wal_position  # re-exported for the replay tests
from tests.waiting import wait_for  # noqa: F401  (re-exported for the replay tests)

TABLES = {"product": ("index_products", "product_id", "handle"), "content": ("index_content", "node_id", "slug")}


def checksum(database_url: str, doc_type: str, version: int) -> tuple[int, str]:
    """Row count and md5 over every row of a version, without what differs between two
    builds of the same facts (indexed_at, and the source position each build read at)."""
    table, id_column, key = TABLES[doc_type]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            f"SELECT count(*), coalesce(md5(string_agg(concat_ws('|', tenant_id, locale, {id_column}, {key}, status,"
            f" ts_config, document - 'version'), E'\\n' ORDER BY tenant_id, locale, {id_column})), '')"
            f" FROM {table} WHERE index_version = %s", (version,)).fetchone()
    assert row is not None
    return int(str(row[0])), str(row[1])


def version_rows(database_url: str, doc_type: str, version: int) -> int:
    return checksum(database_url, doc_type, version)[0]


def snapshot(database_url: str, index_dir: Path, doc_type: str, version: int) -> tuple[tuple[int, str], Any]:
    """Everything a storefront could read from one version: JSONB checksum and Tantivy documents."""
    return checksum(database_url, doc_type, version), tantivy_documents(index_dir, doc_type, version)

