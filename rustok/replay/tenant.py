"""Tenant scope: a version is per document type for all tenants, so a replay of one
tenant writes only that tenant and takes every other tenant from the live version.

The JSONB rows are copied with SQL (``versions.copy_other_tenants``). The Tantivy
documents are re-emitted from those copied rows through the replay's own Tantivy sink
(it holds the directory's only writer): the sink's version guard keeps whatever is
newer, and a root of another tenant that the new index still holds but the rows no
longer do (deleted meanwhile) gets a tombstone.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg
import tantivy

from contracts.documents import ContentDocument, ProductDocument
from contracts.search_index import root_key
from pipelines.model import DocType, Document, RootDocuments, RootKey
from pipelines.sinks.base import Sink
from pipelines.sinks.tantivy_sink import TantivySink

from .versions import TABLES


class TenantScopedSink:
    """Passes on only the emissions of one tenant."""

    def __init__(self, inner: Sink, tenant: str) -> None:
        self.inner = inner
        self.name = inner.name
        self._tenant = UUID(tenant)

    def setup(self) -> None:
        self.inner.setup()

    def write(self, batch: Sequence[RootDocuments]) -> None:
        self.inner.write([e for e in batch if e.root.tenant_id == self._tenant])

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


def other_tenant_emissions(database_url: str, doc_type: DocType, version: int, tenant: str) -> list[RootDocuments]:
    """Every other tenant's root in ``version`` of the JSONB table, as emissions."""
    id_column = "product_id" if doc_type == "product" else "node_id"
    model = ProductDocument if doc_type == "product" else ContentDocument
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT tenant_id, {id_column}, source_lsn, source_committed_at, document FROM {TABLES[doc_type]}"
            " WHERE index_version = %s AND tenant_id <> %s ORDER BY tenant_id, " + id_column, (version, tenant),
        ).fetchall()
    grouped: dict[RootKey, tuple[int, object, list[Document]]] = {}
    for tenant_id, entity_id, lsn, committed_at, document in rows:
        assert isinstance(tenant_id, UUID) and isinstance(entity_id, UUID) and isinstance(lsn, int)
        key = RootKey(doc_type, tenant_id, entity_id)
        _, _, docs = grouped.setdefault(key, (lsn, committed_at, []))
        docs.append(model.model_validate(document))
    return [RootDocuments(key, lsn, tuple(docs), committed_at)  # type: ignore[arg-type]
            for key, (lsn, committed_at, docs) in grouped.items()]


def copy_other_tenants_tantivy(sink: TantivySink, database_url: str, doc_type: DocType, version: int,
                               tenant: str) -> None:
    """Make the sink's index hold the other tenants' roots of the JSONB ``version``."""
    emissions = other_tenant_emissions(database_url, doc_type, version, tenant)
    present = {root_key(e.root.tenant_id, e.root.id) for e in emissions}
    sink.setup()
    index = sink.index(doc_type)
    index.reload()
    searcher = index.searcher()
    gone: list[RootDocuments] = []
    hits = searcher.search(tantivy.Query.all_query(), limit=max(searcher.num_docs, 1),
                           order_by_field="version", order=tantivy.Order.Desc).hits
    seen: set[str] = set()
    for stored_version, address in hits:
        fields = searcher.doc(address).to_dict()
        if "doc_json" not in fields:
            continue  # a tombstone: nothing to remove
        document = (ProductDocument if doc_type == "product" else ContentDocument).model_validate_json(
            bytes(fields["doc_json"][0]))
        key = root_key(document.tenant_id, document.id)
        if str(document.tenant_id) == tenant or key in present or key in seen:
            continue
        seen.add(key)
        assert isinstance(stored_version, int)
        gone.append(RootDocuments(RootKey(doc_type, document.tenant_id, document.id), stored_version + 1, ()))
    sink.write(emissions + gone)
    sink.flush()
