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
In a bulk load (``begin_bulk``/``end_bulk``, a snapshot's roots) the flushes are
committed once, at its end.

The writers live in a process of their own (``tantivy_writer``): this process reads
(versions, the ``index`` handle) and turns documents into JSON; the writer process
deletes, adds and commits, out of reach of this process's GIL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import tantivy

from contracts.search_index import LAYOUT_VERSION, LAYOUTS, IndexLayout, document_fields, root_key
from pipelines.model import DocType, RootDocuments
from pipelines.sinks.buffer import DOC_TYPES, EmissionBuffer, check_doc_types
from pipelines.sinks.errors import SinkBackpressure, SinkConfigError
from pipelines.sinks.tantivy_schema import open_index, to_tantivy_json
from pipelines.sinks.tantivy_writer import Operation, WriterError, WriterGone, WriterProcess

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 2.0
# Documents per message to the writer process: it indexes one while the next is made.
CHUNK_DOCUMENTS = 500
LOCK_WAIT_SECONDS = 5.0  # for the lock of a dead sink's writer process, which finishes its flush first


def index_path(root: Path, doc_type: DocType, index_version: int) -> Path:
    return root / doc_type / f"v{index_version}"


@dataclass
class _Open:
    layout: IndexLayout
    index: tantivy.Index  # this process's reader of the index; the writer process writes it
    committed: dict[str, int] = field(default_factory=dict)  # root_key → version, written since open
    deferred: dict[str, int] = field(default_factory=dict)  # the same, written in a bulk load not committed yet
    # Nothing was in the index when this writer took it (a fresh build): a root this sink has
    # not written has no stored version and nothing to delete, so neither is looked for.
    empty_at_open: bool = False


class TantivySink:
    """Writes RootDocuments into local Tantivy indexes.

    Parameters:
        root: folder holding ``<doc_type>/v<index_version>/``.
        doc_types: the document types this sink handles; emissions of others are ignored.
        index_version: the index version directory to write (a rebuild writes a new one).
        heap_size: writer memory budget in bytes (tantivy needs at least 15 MB per thread). The
            writer fills memory as it needs (a streaming flush takes little); a bulk load fills it
            before it writes a segment out, so the budget sets a rebuilt index's segment count:
            the 100k-product bench's 300k documents made five segments under 64 MB and one
            under 256 MB (search CPU per request 0.92x from nine to five segments).
        num_threads: indexing threads per writer; 0 lets tantivy choose.
    """

    name = "tantivy"

    def __init__(self, root: Path, doc_types: Sequence[DocType] = DOC_TYPES, index_version: int = 1,
                 heap_size: int = 256_000_000, num_threads: int = 1) -> None:
        if index_version < 1:
            raise SinkConfigError(f"index_version must be >= 1, got {index_version}")
        self._root = Path(root)
        self._doc_types = check_doc_types(doc_types)
        self._version = index_version
        self._heap_size = heap_size
        self._threads = num_threads
        self._buffer = EmissionBuffer(self._doc_types)
        self._open: dict[DocType, _Open] = {}
        self._writer: WriterProcess | None = None
        self.stale_skipped = 0
        self._bulk = False

    def setup(self) -> None:
        try:
            for doc_type in self._doc_types:
                if doc_type not in self._open:
                    self._open[doc_type] = self._open_one(doc_type)
        except BaseException:
            self.close()  # no writer process is left behind; a retry starts a new one
            raise

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
        for doc_type, opened in list(self._open.items()):
            emissions = [e for e in pending if e.root.doc_type == doc_type]
            if emissions:
                self._flush_one(doc_type, opened, emissions)

    def begin_bulk(self) -> None:
        """Until ``end_bulk``, flushes add without committing (``BulkLoads``): one commit at the
        end instead of one per flush, and an index of a few large segments instead of one
        segment per flush for Tantivy's merges to rewrite (tantivy-py has no call to merge them)."""
        self._bulk = True

    def end_bulk(self, completed: bool) -> None:
        """Commit the bulk's flushes and make them visible, or, when the bulk failed, drop them."""
        self._bulk = False
        pending = [(doc_type, opened) for doc_type, opened in self._open.items() if opened.deferred]
        if not pending:  # nothing deferred, or the writer process is gone (close() forgot its indexes)
            return
        assert self._writer is not None  # setup() opened every index through it
        try:
            for doc_type, opened in pending:
                if completed:
                    self._writer.commit(doc_type)
                    opened.committed.update(opened.deferred)
                    opened.index.reload()
                else:
                    self._writer.rollback(doc_type)
                opened.deferred.clear()
        except WriterGone as exc:
            self.close()
            raise SinkBackpressure(str(exc), LOCK_RETRY_SECONDS) from exc

    def close(self) -> None:
        # The writer process drops its uncommitted operations and frees the locks.
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._open.clear()

    def _open_one(self, doc_type: DocType) -> _Open:
        layout = LAYOUTS[doc_type]
        path = index_path(self._root, doc_type, self._version)
        if self._writer is None:
            self._writer = WriterProcess()
        writer = self._writer
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                writer.open(doc_type, path, self._heap_size, self._threads)
                break
            except WriterError as exc:
                if "schema does not match" in str(exc):
                    raise SinkConfigError(
                        f"the {doc_type} index in {path} was written under another layout than version {LAYOUT_VERSION}"
                        " of contracts.search_index; rebuild it into a new index version (rustok replay)") from exc
                if "LockBusy" not in str(exc):
                    raise
                # The writer process of a sink whose process just died frees the lock as it exits.
                if time.monotonic() > deadline:
                    raise SinkBackpressure(f"{doc_type} index is locked by another writer", LOCK_RETRY_SECONDS) from exc
                time.sleep(0.05)
            except WriterGone as exc:  # setup() closes it; the next one starts a new writer process
                raise SinkBackpressure(str(exc), LOCK_RETRY_SECONDS) from exc
        index = open_index(layout, path)
        index.reload()
        return _Open(layout, index, empty_at_open=index.searcher().num_docs == 0)

    def _flush_one(self, doc_type: DocType, opened: _Open, emissions: list[RootDocuments]) -> None:
        searcher = opened.index.searcher()
        applied: dict[str, int] = {}

        def chunks() -> Iterator[list[Operation]]:
            chunk: list[Operation] = []
            documents = 0
            for emission in emissions:
                key = root_key(emission.root.tenant_id, emission.root.id)
                stored = opened.deferred.get(key, opened.committed.get(key))
                if stored is None and not opened.empty_at_open and searcher.num_docs:
                    stored = _stored_version(opened.index, searcher, key)
                if stored is not None and stored > emission.version:
                    self.stale_skipped += 1
                    log.info("stale emission skipped", extra={"root": key, "lsn": emission.version, "stored_lsn": stored})
                    continue
                # Nothing to delete for a root the index cannot hold: it was empty when this
                # writer took it, and this sink has not committed the root since.
                chunk.append((key, stored is not None or not opened.empty_at_open,
                              _documents(opened.layout, key, emission)))
                applied[key] = emission.version
                documents += len(emission.documents) or 1
                if documents >= CHUNK_DOCUMENTS:
                    yield chunk
                    chunk, documents = [], 0
            if chunk:
                yield chunk

        assert self._writer is not None  # setup() opened every index through it
        try:
            self._writer.apply(doc_type, chunks(), commit=not self._bulk)
        except WriterGone as exc:
            self.close()  # the next setup opens every index in a new writer process
            raise SinkBackpressure(str(exc), LOCK_RETRY_SECONDS) from exc
        if self._bulk:
            opened.deferred.update(applied)
            return
        opened.committed.update(applied)
        opened.index.reload()


def _stored_version(index: tantivy.Index, searcher: tantivy.Searcher, key: str) -> int | None:
    query = tantivy.Query.term_query(index.schema, "root_key", key)
    hits = searcher.search(query, 1, order_by_field="version", order=tantivy.Order.Desc).hits
    if not hits:
        return None
    value = hits[0][0]
    return value if isinstance(value, int) else None


def _documents(layout: IndexLayout, key: str, emission: RootDocuments) -> list[str]:
    """What replaces a root: its documents as JSON, or, for an empty emission, a tombstone marker."""
    if not emission.documents:
        return [orjson.dumps({"root_key": [key], "version": [emission.version], "tombstone": [True]}).decode()]
    return [to_tantivy_json(layout, document_fields(doc, encoded.encode()))
            for doc, encoded in zip(emission.documents, emission.documents_json(), strict=True)]
