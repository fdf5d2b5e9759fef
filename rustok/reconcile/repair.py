"""Repairing drift: re-emit drifted roots through the pipeline, remove rows of vanished entities.

A root whose entity still exists (missing, differing, or extra in a locale) is re-read by
the CDC connector through an incremental snapshot signal filtered on the root's id, for
every table its document is built from; the pipeline then rebuilds the root and its sinks
replace all of its documents. A row whose entity no longer exists under that tenant cannot
be re-read: it is removed from the live version directly, in PostgreSQL and in the live
Tantivy index, by the sinks' own replace-with-nothing (a tombstone at the current WAL
position, so no older emission can bring it back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from contracts.signals import request_incremental_snapshot
from pipelines.model import DocType, RootDocuments, RootKey
from pipelines.sinks.errors import SinkBackpressure
from pipelines.sinks.postgres import PostgresSink, live_version
from pipelines.sinks.tantivy_sink import TantivySink
from rustok.reconcile.compare import DocKey, Drift
from rustok.reconcile.errors import RepairBlocked

log = logging.getLogger(__name__)

# Every table a document is built from, and the column naming its root.
ROOT_TABLES: dict[str, dict[str, str]] = {
    "product": {
        "commerce_products": "id", "commerce_product_translations": "product_id", "commerce_variants": "product_id",
        "commerce_variant_translations": "product_id", "commerce_prices": "product_id",
        "commerce_inventory_levels": "product_id", "commerce_product_categories": "product_id",
        "commerce_product_tags": "product_id",
    },
    "content": {"nodes": "root_id", "node_translations": "node_id", "node_bodies": "node_id", "node_tags": "node_id"},
}
_SOURCE = {"product": "commerce_products", "content": "nodes"}


@dataclass
class RepairResult:
    signals: list[str] = field(default_factory=list)
    reemitted: list[RootKey] = field(default_factory=list)
    removed: list[RootKey] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def key(root: RootKey) -> dict[str, str]:
            return {"doc_type": root.doc_type, "tenant_id": str(root.tenant_id), "id": str(root.id)}

        return {"signals": self.signals, "reemitted": [key(r) for r in self.reemitted],
                "removed": [key(r) for r in self.removed], "notes": self.notes}


def _root(key: DocKey) -> RootKey:
    doc_type: DocType = "product" if key.doc_type == "product" else "content"
    return RootKey(doc_type, UUID(key.tenant_id), UUID(key.id))


def drifted_roots(drift: Drift) -> set[RootKey]:
    return {_root(k) for k in (*drift.missing, *drift.extra, *drift.differing)}


def repair(database_url: str, drift: Drift, index_dir: Path, lock_timeout: float = 10.0) -> RepairResult:
    """Re-emit the drifted roots that exist and remove those that do not (see module doc)."""
    result = RepairResult()
    roots = sorted(drifted_roots(drift))
    with psycopg.connect(database_url) as conn:
        existing = {root for root in roots if _exists(conn, root)}
        for doc_type in ("product", "content"):
            ids = sorted({str(r.id) for r in existing if r.doc_type == doc_type})
            if ids:
                result.signals.append(_signal(conn, doc_type, ids))
        conn.commit()
    result.reemitted = [r for r in roots if r in existing]
    result.removed = [r for r in roots if r not in existing]
    if result.removed:
        result.notes.extend(_remove(database_url, result.removed, index_dir, lock_timeout))
    log.info("repair requested", extra={"reemitted": len(result.reemitted), "removed": len(result.removed)})
    return result


def _exists(conn: psycopg.Connection[Any], root: RootKey) -> bool:
    row = conn.execute(f"SELECT 1 FROM {_SOURCE[root.doc_type]} WHERE id = %s AND tenant_id = %s",
                       (root.id, root.tenant_id)).fetchone()
    return row is not None


def _signal(conn: psycopg.Connection[Any], doc_type: str, ids: Iterable[str]) -> str:
    listed = ", ".join(f"'{UUID(i)}'" for i in ids)  # UUID() again: the filter text holds only ids
    tables = ROOT_TABLES[doc_type]
    return request_incremental_snapshot(
        conn, list(tables), conditions={table: f"{column} IN ({listed})" for table, column in tables.items()})


def _remove(database_url: str, roots: list[RootKey], index_dir: Path, lock_timeout: float) -> list[str]:
    notes: list[str] = []
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    version = int(row[0]) if row else 0
    for doc_type in ("product", "content"):
        mine = [r for r in roots if r.doc_type == doc_type]
        if not mine:
            continue
        live = live_version(database_url, doc_type)
        emissions = [RootDocuments(root, version, ()) for root in mine]
        _write(PostgresSink(database_url, (doc_type,), live), emissions, lock_timeout)
        if not (index_dir / doc_type / f"v{live}").exists():
            notes.append(f"no Tantivy index at {index_dir / doc_type / f'v{live}'}: only PostgreSQL rows removed")
            continue
        try:
            _write(TantivySink(index_dir, (doc_type,), live), emissions, lock_timeout)
        except RepairBlocked as exc:
            notes.append(f"{doc_type}: PostgreSQL rows removed, Tantivy documents not: {exc}"
                         " (run the repair again while the pipeline is stopped)")
    return notes


def _write(sink: PostgresSink | TantivySink, emissions: list[RootDocuments], lock_timeout: float) -> None:
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            sink.setup()
            break
        except SinkBackpressure as exc:
            # A running pipeline holds the index writer between flushes only briefly.
            if time.monotonic() > deadline:
                raise RepairBlocked(f"the live index stays locked by another writer: {exc}") from exc
            time.sleep(min(exc.retry_after, 0.5))
    try:
        sink.write(emissions)
        sink.flush()
    finally:
        sink.close()
