"""Reading the read model back, for comparisons: JSONB rows and Tantivy documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import tantivy

from contracts.search_index import LAYOUTS
from pipelines.sinks.tantivy_schema import open_index
from tests.waiting import DEFAULT_TIMEOUT, wait_for

IGNORED = {"version"}


def _clean(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in IGNORED}


def table_documents(database_url: str, table: str = "index_products") -> dict[tuple[str, str, str], dict[str, Any]]:
    """Live-version documents by (tenant, locale, id), without their version."""
    id_column = "product_id" if table == "index_products" else "node_id"
    doc_type = "product" if table == "index_products" else "content"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT tenant_id::text, locale, {id_column}::text, document FROM {table}"
            " WHERE index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = %s)",
            (doc_type,),
        ).fetchall()
    return {(t, loc, i): _clean(doc) for t, loc, i, doc in rows}


def live_version(database_url: str, doc_type: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT live_version FROM read_model_aliases WHERE doc_type = %s", (doc_type,)).fetchone()
    assert row is not None
    return int(row[0])


def wal_position(database_url: str) -> int:
    """Where the database's WAL is now: a pipeline at or past it has applied every commit so far."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(str(row[0]))


def caught_up(database_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until the embedded pipeline has applied every commit made so far."""
    target = wal_position(database_url)
    wait_for(lambda: applied_lsn(database_url) >= target, timeout)


def applied_lsn(database_url: str, pipeline: str = "embedded") -> int:
    """The pipeline's checkpoint: every commit at or below it is visible in every sink."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT applied_commit_lsn FROM pipeline_checkpoints WHERE pipeline = %s",
                           (pipeline,)).fetchone()
    return 0 if row is None else int(str(row[0]))


def tantivy_documents(index_dir: Path, doc_type: str, version: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    index = open_index(LAYOUTS[doc_type], index_dir / doc_type / f"v{version}")  # type: ignore[index]
    index.reload()
    searcher = index.searcher()
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    hits = searcher.search(tantivy.Query.all_query(), limit=max(searcher.num_docs, 1)).hits
    for _score, address in hits:
        stored = searcher.doc(address).to_dict()
        if "doc_json" not in stored:
            continue  # a tombstone marker
        document = json.loads(bytes(stored["doc_json"][0]))
        found[(document["tenant_id"], document["locale"], document["id"])] = _clean(document)
    return found
