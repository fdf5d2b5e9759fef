"""Index versions as a replay handles them: clear, switch (atomically), copy, drop.

The JSONB read tables hold every version side by side (``index_version`` column); the
Tantivy indexes live in ``<index_dir>/<doc_type>/v<version>/``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path

import psycopg

from pipelines.model import DocType
from pipelines.runtime.targets import record_build
from pipelines.sinks.postgres import drop_index_version, live_version
from pipelines.sinks.tantivy_sink import index_path

log = logging.getLogger(__name__)

TABLES: dict[DocType, str] = {"product": "index_products", "content": "index_content"}


def clear_versions(database_url: str, index_dir: Path, versions: Mapping[DocType, int]) -> None:
    """Remove whatever an interrupted build left in ``versions`` (never a live one)."""
    for doc_type, version in versions.items():
        if live_version(database_url, doc_type) == version:
            continue
        drop_index_version(database_url, doc_type, version)
        shutil.rmtree(index_path(index_dir, doc_type, version), ignore_errors=True)


def switch_aliases(database_url: str, versions: Mapping[DocType, int], built_through: int, built_by: str,
                   tenant: str | None = None) -> dict[DocType, int]:
    """Make ``versions`` live in one transaction (storefronts see all switch or none) and
    record that they hold every commit up to ``built_through``; returns the previous live
    versions. For a tenant-scoped build, the other tenants' rows are first copied from
    the live version in the same transaction."""
    previous: dict[DocType, int] = {}
    with psycopg.connect(database_url) as conn, conn.transaction():
        for doc_type, version in versions.items():
            row = conn.execute("SELECT live_version FROM read_model_aliases WHERE doc_type = %s FOR UPDATE",
                               (doc_type,)).fetchone()
            assert row is not None and isinstance(row[0], int)
            previous[doc_type] = row[0]
            if tenant is not None and row[0] != version:
                copy_other_tenants(conn, doc_type, row[0], version, tenant)
            conn.execute("UPDATE read_model_aliases SET live_version = %s, switched_at = now() WHERE doc_type = %s",
                         (version, doc_type))
            record_build(conn, doc_type, version, built_through, built_by)
    log.info("read-model aliases switched", extra={"from": previous, "to": dict(versions)})
    return previous


def copy_other_tenants(conn: psycopg.Connection[tuple[object, ...]], doc_type: DocType, source: int, target: int,
                       tenant: str) -> int:
    """Make ``target`` hold exactly ``source``'s rows of every tenant but ``tenant`` (inside
    the caller's transaction, so readers never see the delete without the insert)."""
    table = TABLES[doc_type]
    conn.execute(f"DELETE FROM {table} WHERE index_version = %s AND tenant_id <> %s", (target, tenant))
    columns = [str(r[0]) for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
        " AND attgenerated = ''"
        " AND attname <> 'index_version' ORDER BY attnum", (table,)).fetchall()]
    listed = ", ".join(columns)
    cur = conn.execute(f"INSERT INTO {table} (index_version, {listed}) SELECT %s, {listed} FROM {table}"
                       " WHERE index_version = %s AND tenant_id <> %s", (target, source, tenant))
    return cur.rowcount


def drop_versions(database_url: str, index_dir: Path, versions: Mapping[DocType, int]) -> None:
    """Delete retired versions: rows and Tantivy directories (a live version is kept)."""
    for doc_type, version in versions.items():
        if live_version(database_url, doc_type) == version:
            continue
        rows = drop_index_version(database_url, doc_type, version)
        shutil.rmtree(index_path(index_dir, doc_type, version), ignore_errors=True)
        log.info("retired index version dropped", extra={"doc_type": doc_type, "version": version, "rows": rows})
