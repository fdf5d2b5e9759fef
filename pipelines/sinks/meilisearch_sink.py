"""The Meilisearch sink (optional backend) through the official ``meilisearch`` client.

One index per document type and index version (``<prefix>_<doc_type>_v<version>``).
Meilisearch documents are the read-model document as JSON plus flat fields for
filtering and sorting: ``key`` (primary key ``<tenant>_<locale>_<id>``, hex UUIDs),
``root_key``, ``price_min``/``price_max`` objects keyed by currency
(``price_min.EUR``), ``published_at_ts``/``created_at_ts`` (unix seconds).

Version guard: the stored versions of the pending roots are read with one filtered
``get_documents`` per flush; older emissions are skipped; applicable roots are
deleted by filter and their documents added; ``flush`` waits for the last task, so
when it returns the documents are searchable. Like the JSONB sink, a deleted root
leaves nothing behind, so a late older emission of it can re-create it.

Not exercised against a server on the build machine (none is available); the pure
mapping and settings are unit-tested, the integration test runs when
``RUSTOK_MEILISEARCH_URL`` is set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import meilisearch
import requests
from meilisearch.errors import MeilisearchCommunicationError, MeilisearchTimeoutError

from contracts.search_index import root_key
from pipelines.model import DocType, Document, RootDocuments
from pipelines.sinks.buffer import DOC_TYPES, EmissionBuffer, check_doc_types
from pipelines.sinks.errors import SinkBackpressure, SinkConfigError, SinkError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2.0
TASK_TIMEOUT_MS = 60_000
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

_COMMON_FILTERABLE = ["tenant_id", "locale", "status", "root_key", "version", "tag_slugs", "published_at_ts",
                      "created_at_ts"]
SETTINGS: dict[DocType, dict[str, Any]] = {
    "product": {
        "filterableAttributes": _COMMON_FILTERABLE + ["category_handles", "price_min", "price_max", "in_stock",
                                                      "total_stock", "handle", "vendor", "product_type", "skus"],
        "sortableAttributes": ["price_min", "price_max", "published_at_ts", "created_at_ts", "title", "total_stock"],
        "searchableAttributes": ["title", "subtitle", "tags", "category_names", "vendor", "skus", "description"],
    },
    "content": {
        "filterableAttributes": _COMMON_FILTERABLE + ["kind", "slug", "category_slug", "author_id", "parent_id"],
        "sortableAttributes": ["published_at_ts", "created_at_ts", "title", "reply_count"],
        "searchableAttributes": ["title", "excerpt", "tags", "category_name", "author_name", "body_text"],
    },
}


def meili_key(tenant_id: UUID, locale: str, entity_id: UUID) -> str:
    """Primary key ``<tenant hex>_<locale>_<id hex>``; only characters Meilisearch allows."""
    return _UNSAFE.sub("-", f"{tenant_id.hex}_{locale}_{entity_id.hex}")


def index_uid(prefix: str, doc_type: DocType, index_version: int) -> str:
    return _UNSAFE.sub("-", f"{prefix}_{doc_type}_v{index_version}")


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def meili_document(doc: Document) -> dict[str, Any]:
    """The Meilisearch document of a read-model document."""
    body: dict[str, Any] = doc.model_dump(mode="json")
    body["key"] = meili_key(doc.tenant_id, doc.locale, doc.id)
    body["root_key"] = root_key(doc.tenant_id, doc.id)
    body["published_at_ts"] = _ts(doc.published_at)
    body["created_at_ts"] = _ts(doc.created_at)
    if doc.doc_type == "product":
        body["price_min"] = {p.currency: p.min for p in doc.prices}
        body["price_max"] = {p.currency: p.max for p in doc.prices}
    else:
        body["category_slug"] = doc.category.slug if doc.category else None
        body["author_id"] = str(doc.author.id) if doc.author else None
    return body


def _quoted(values: Sequence[str]) -> str:
    return ", ".join('"' + v.replace('"', '\\"') + '"' for v in values)


class MeilisearchSink:
    """Writes RootDocuments into Meilisearch.

    Parameters:
        url: Meilisearch base URL.
        api_key: a key allowed to manage indexes and documents (None for an open dev server).
        doc_types: the document types this sink handles.
        index_version: the version suffix of the index names (a rebuild writes a new one).
        prefix: index name prefix (``rustok``).
    """

    name = "meilisearch"

    def __init__(self, url: str, api_key: str | None = None, doc_types: Sequence[DocType] = DOC_TYPES,
                 index_version: int = 1, prefix: str = "rustok") -> None:
        if index_version < 1:
            raise SinkConfigError(f"index_version must be >= 1, got {index_version}")
        self._client = meilisearch.Client(url, api_key)
        self._doc_types = check_doc_types(doc_types)
        self._uids = {t: index_uid(prefix, t, index_version) for t in self._doc_types}
        self._buffer = EmissionBuffer(self._doc_types)
        self.stale_skipped = 0

    def index_uid(self, doc_type: DocType) -> str:
        return self._uids[doc_type]

    def setup(self) -> None:
        with _transient():
            for doc_type, uid in self._uids.items():
                self._wait(self._client.create_index(uid, {"primaryKey": "key"}).task_uid, allow_exists=True)
                self._wait(self._client.index(uid).update_settings(SETTINGS[doc_type]).task_uid)

    def write(self, batch: Sequence[RootDocuments]) -> None:
        self._buffer.add(batch)

    def flush(self) -> None:
        pending = self._buffer.take()
        with _transient():
            for doc_type, uid in self._uids.items():
                emissions = [e for e in pending if e.root.doc_type == doc_type]
                if emissions:
                    self._flush_one(self._client.index(uid), emissions)

    def close(self) -> None:
        """Nothing to release: the client holds no connection between requests."""

    def _flush_one(self, index: Any, emissions: list[RootDocuments]) -> None:
        stored = self._stored_versions(index, [root_key(e.root.tenant_id, e.root.id) for e in emissions])
        applicable = []
        for e in emissions:
            key = root_key(e.root.tenant_id, e.root.id)
            if stored.get(key, -1) > e.version:
                self.stale_skipped += 1
                continue
            applicable.append(e)
        if not applicable:
            return
        keys = [root_key(e.root.tenant_id, e.root.id) for e in applicable]
        last = index.delete_documents(filter=f"root_key IN [{_quoted(keys)}]").task_uid
        docs = [meili_document(d) for e in applicable for d in e.documents]
        if docs:
            last = index.add_documents(docs, primary_key="key").task_uid
        self._wait(last)

    def _stored_versions(self, index: Any, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        result = index.get_documents({"filter": f"root_key IN [{_quoted(keys)}]", "fields": ["root_key", "version"],
                                      "limit": max(1000, len(keys) * 50)})
        for item in result.results:
            data = item if isinstance(item, dict) else dict(item)
            key, version = str(data["root_key"]), int(data["version"])
            found[key] = max(found.get(key, -1), version)
        return found

    def _wait(self, task_uid: int, allow_exists: bool = False) -> None:
        task = self._client.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        if task.status == "succeeded":
            return
        code = (task.error or {}).get("code")
        if allow_exists and code == "index_already_exists":
            return
        raise SinkError(f"meilisearch task {task_uid} {task.status}: {task.error}")


class _transient:
    """Turn communication failures and timeouts into SinkBackpressure."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is not None and isinstance(exc, (MeilisearchCommunicationError, MeilisearchTimeoutError,
                                                requests.ConnectionError, requests.Timeout)):
            raise SinkBackpressure(f"meilisearch unavailable: {exc}", RETRY_AFTER_SECONDS) from exc
