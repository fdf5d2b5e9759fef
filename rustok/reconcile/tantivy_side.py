"""The live Tantivy index as a side of reconciliation: the same fields, read from stored documents.

Read-only: a searcher over ``<index_dir>/<doc_type>/v<live version>``, which works while
the pipeline's writer holds the index. Tombstone markers (roots removed) carry no document
and are skipped, as storefront queries skip them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import tantivy

from contracts.search_index import LAYOUTS
from pipelines.model import DocType
from pipelines.sinks.postgres import live_version
from pipelines.sinks.tantivy_schema import open_index
from rustok.reconcile.compare import DocKey, Drift, Fields, compare
from rustok.reconcile.sources import CONTENT_FIELDS, PRODUCT_FIELDS, read_expected

DOC_TYPES: tuple[DocType, ...] = ("product", "content")


def document_fields(doc_type: str, document: dict[str, Any]) -> Fields:
    """The compared fields of a document, in the forms the SQL sides produce (pure)."""
    if doc_type == "product":
        fields = {name: document.get(name) for name in PRODUCT_FIELDS}
        prices = document.get("prices") or []
        fields["prices"] = sorted(([p.get("currency"), p.get("min"), p.get("max")] for p in prices),
                                  key=lambda p: str(p[0]))
        return fields
    return {name: document.get(name) for name in CONTENT_FIELDS}


def read_tantivy(index_dir: Path, database_url: str, tenant: UUID | None = None) -> dict[DocKey, Fields] | None:
    """Live Tantivy documents by key; None when the live index directories do not exist here."""
    found: dict[DocKey, Fields] = {}
    for doc_type in DOC_TYPES:
        path = index_dir / doc_type / f"v{live_version(database_url, doc_type)}"
        if not path.exists():
            return None
        index = open_index(LAYOUTS[doc_type], path)
        index.reload()
        searcher = index.searcher()
        hits = searcher.search(tantivy.Query.all_query(), limit=max(searcher.num_docs, 1)).hits
        for _score, address in hits:
            stored = searcher.doc(address).to_dict()
            if "doc_json" not in stored:
                continue  # a tombstone marker
            document = json.loads(bytes(stored["doc_json"][0]))
            if tenant is not None and document.get("tenant_id") != str(tenant):
                continue
            key = DocKey(doc_type, document["tenant_id"], document["locale"], document["id"])
            found[key] = document_fields(doc_type, document)
    return found


def reconcile_tantivy(database_url: str, index_dir: Path, tenant: UUID | None = None) -> Drift | None:
    """The drift between the write model and the live Tantivy index; None if there is no index here."""
    actual = read_tantivy(index_dir, database_url, tenant)
    return None if actual is None else compare(read_expected(database_url, tenant), actual)
