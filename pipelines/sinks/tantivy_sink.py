"""The Tantivy sink: one local index per document type and index version.

Directory layout ``<root>/<doc_type>/v<index_version>/`` (``contracts.search_index``).
Tantivy allows one writer per directory, held from ``setup`` to ``close``; readers in
other processes open the directory themselves and see each commit.

Version guard: before replacing a root, the sink looks up the root's stored version,
first in a map of what it committed since it opened, else in the last commit (the
``version`` fast field of the root's documents, or of its tombstone) unless the index
was empty when the sink opened it (only this writer can have added anything since). An emission
older than that is skipped. Replacing is ``delete_documents_by_term(root_key)`` then
adding the emitted documents; an empty emission leaves a tombstone marker (invisible
to tenant-scoped queries) so a late older emission cannot resurrect the root.

``flush`` commits and reloads the reader: when it returns, the documents are on disk
and visible. A failed flush rolls the writer back, so uncommitted operations never
leak into the next commit; after a crash the directory shows the last commit only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from contracts.search_index import LAYOUT_VERSION, LAYOUTS, IndexLayout, document_fields, root_key
from pipelines.model import DocType, RootDocuments
from pipelines.sinks.buffer import DOC_TYPES, EmissionBuffer, check_doc_types
from pipelines.sinks.errors import SinkBackpressure, SinkConfigError
from pipelines.sinks.tantivy_schema import open_index, to_tantivy_json

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 2.0


def index_path(root: Path, doc_type: DocType, index_version: int) -> Path:
    return root / doc_type / f"v{index_version}"


@dataclass
class _Open:
    layout: IndexLayout
    index: tantivy.Index
    writer: tantivy.IndexWriter
    committed: dict[str, int] = field(default_factory=dict)  # root_key → version, written since open
    # Nothing was in the index when this writer took it (a fresh build): a root this sink has
    # not written has no stored version, so the per-root lookup is skipped.
    empty_at_open: bool = False


class TantivySink:
    """Writes RootDocuments into local Tantivy indexes.

    Parameters:
        root: folder holding ``<doc_type>/v<index_version>/``.
        doc_types: the document types this sink handles; emissions of others are ignored.
        index_version: the index version directory to write (a rebuild writes a new one).
        heap_size: writer memory budget in bytes (tantivy needs at least 15 MB per thread).
        num_threads: indexing threads per writer; 0 lets tantivy choose.
    """

    name = "tantivy"

    def __init__(self, root: Path, doc_types: Sequence[DocType] = DOC_TYPES, index_version: int = 1,
                 heap_size: int = 64_000_000, num_threads: int = 1) -> None:
        if index_version < 1:
            raise SinkConfigError(f"index_version must be >= 1, got {index_version}")
        self._root = Path(root)
        self._doc_types = check_doc_types(doc_types)
        self._version = index_version
        self._heap_size = heap_size
        self._threads = num_threads
        self._buffer = EmissionBuffer(self._doc_types)
        self._open: dict[DocType, _Open] = {}
        self.stale_skipped = 0

    def setup(self) -> None:
        for doc_type in self._doc_types:
            if doc_type not in self._open:
                self._open[doc_type] = self._open_one(doc_type)

    def index(self, doc_type: DocType) -> tantivy.Index:
        """The sink's own index handle (already reloaded after each flush)."""
        return self._open[doc_type].index

    def write(self, batch: Sequence[RootDocuments]) -> None:
        self._buffer.add(batch)

    def flush(self) -> None:
        pending = self._buffer.take()
        if not pending:
            return
        self.setup()
        for doc_type, opened in self._open.items():
            emissions = [e for e in pending if e.root.doc_type == doc_type]
            if emissions:
                self._flush_one(opened, emissions)

    def close(self) -> None:
        # Dropping a writer without commit discards its uncommitted operations and frees the lock.
        for opened in self._open.values():
            opened.writer.rollback()
        self._open.clear()

    def _open_one(self, doc_type: DocType) -> _Open:
        layout = LAYOUTS[doc_type]
        path = index_path(self._root, doc_type, self._version)
        try:
            index = open_index(layout, path)
        except ValueError as exc:
            if "schema does not match" in str(exc):
                raise SinkConfigError(
                    f"the {doc_type} index in {path} was written under another layout than version {LAYOUT_VERSION}"
                    " of contracts.search_index; rebuild it into a new index version (rustok replay)") from exc
            raise
        try:
            writer = index.writer(self._heap_size, self._threads)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                raise SinkBackpressure(f"{doc_type} index is locked by another writer", LOCK_RETRY_SECONDS) from exc
            raise
        index.reload()
        return _Open(layout, index, writer, empty_at_open=index.searcher().num_docs == 0)

    def _flush_one(self, opened: _Open, emissions: list[RootDocuments]) -> None:
        searcher = opened.index.searcher()
        applied: dict[str, int] = {}
        try:
            for emission in emissions:
                key = root_key(emission.root.tenant_id, emission.root.id)
                stored = opened.committed.get(key)
                if stored is None and not opened.empty_at_open and searcher.num_docs:
                    stored = _stored_version(opened.index, searcher, key)
                if stored is not None and stored > emission.version:
                    self.stale_skipped += 1
                    log.info("stale emission skipped", extra={"root": key, "lsn": emission.version, "stored_lsn": stored})
                    continue
                _replace(opened, key, emission)
                applied[key] = emission.version
            opened.writer.commit()
        except BaseException:
            opened.writer.rollback()
            raise
        opened.committed.update(applied)
        opened.index.reload()


def _stored_version(index: tantivy.Index, searcher: tantivy.Searcher, key: str) -> int | None:
    query = tantivy.Query.term_query(index.schema, "root_key", key)
    hits = searcher.search(query, 1, order_by_field="version", order=tantivy.Order.Desc).hits
    if not hits:
        return None
    value = hits[0][0]
    return value if isinstance(value, int) else None


def _replace(opened: _Open, key: str, emission: RootDocuments) -> None:
    writer = opened.writer
    writer.delete_documents_by_term("root_key", key)
    if not emission.documents:
        marker = tantivy.Document()
        marker.add_text("root_key", key)
        marker.add_integer("version", emission.version)
        marker.add_boolean("tombstone", True)
        writer.add_document(marker)
        return
    for doc, encoded in zip(emission.documents, emission.documents_json(), strict=True):
        writer.add_json(to_tantivy_json(opened.layout, document_fields(doc, encoded.encode())))
