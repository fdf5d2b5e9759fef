"""Whole documents by handle or slug, from the PostgreSQL read tables (one indexed row)."""

from __future__ import annotations

from typing import Any

import orjson

from search_api.backends.base import Scope
from search_api.db import Database
from search_api.errors import NotFound
from search_api.query import ContentKind

_LIVE = "index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = %s)"


class DocumentStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def product_by_handle(self, scope: Scope, handle: str) -> dict[str, Any]:
        row = self._db.fetch_one(
            f"SELECT document::text FROM index_products WHERE {_LIVE} AND tenant_id = %s AND locale = %s"
            " AND handle = %s AND status = ANY(%s)", ["product", scope.tenant_id, scope.locale, handle,
                                                       list(scope.statuses)])
        if row is None:
            raise NotFound(f"no product with handle {handle[:128]!r} in locale {scope.locale}")
        return orjson.loads(row[0])  # type: ignore[no-any-return]

    def content_by_slug(self, scope: Scope, kind: ContentKind, slug: str) -> dict[str, Any]:
        row = self._db.fetch_one(
            f"SELECT document::text FROM index_content WHERE {_LIVE} AND tenant_id = %s AND locale = %s"
            " AND kind = %s AND slug = %s AND status = ANY(%s)", ["content", scope.tenant_id, scope.locale, kind, slug,
                                                                list(scope.statuses)])
        if row is None:
            raise NotFound(f"no {kind} with slug {slug[:128]!r} in locale {scope.locale}")
        return orjson.loads(row[0])  # type: ignore[no-any-return]

    def live_version(self, doc_type: str) -> int:
        row = self._db.fetch_one("SELECT live_version FROM read_model_aliases WHERE doc_type = %s", [doc_type])
        return int(row[0]) if row else 1
