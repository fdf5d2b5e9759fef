"""The search service: scope a parsed request to the caller, wait for freshness, search,
and shape the public answer. Routes call this and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search_api.backends.base import Document, Scope, SearchBackend, SearchResult, StoredDocument, parsed
from search_api.consistency import FreshnessGate
from search_api.cursor import encode_cursor
from search_api.documents import DocumentStore
from search_api.errors import StaleRead
from search_api.highlight import CONTENT_FIELDS, PRODUCT_FIELDS, highlight_document
from search_api.query import ContentKind, DocType, SearchRequest
from search_api.tenancy import Principal


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, Any]
    stale: bool = False
    public: bool = True


class SearchService:
    def __init__(self, backend: SearchBackend, documents: DocumentStore, gate: FreshnessGate,
                 stale_mode: str = "flag") -> None:
        self.backend, self._documents, self._gate, self._stale_mode = backend, documents, gate, stale_mode

    def scope(self, principal: Principal, request: SearchRequest) -> Scope:
        return Scope(tenant_id=principal.tenant.id, locale=principal.tenant.resolve_locale(request.locale),
                     statuses=principal.allowed_statuses(request.statuses))

    def immediate(self, *requests: SearchRequest) -> bool:
        """Whether searching ``requests`` needs no database round trip (no ``min_version``
        to wait for, a backend answering from memory): callers may then run it at once
        rather than hand it to a worker thread."""
        return all(r.min_version is None and self.backend.answers_from_memory(r.doc_type) for r in requests)

    def fresh(self, token: str | None) -> bool:
        if self._gate.wait(token):
            return True
        if self._stale_mode == "error":
            raise StaleRead("the read model has not reached min_version yet; retry shortly")
        return False

    def search(self, principal: Principal, request: SearchRequest, facets_only: bool = False) -> Answer:
        scope = self.scope(principal, request)
        fresh = self.fresh(request.min_version)
        result = self.backend.search(scope, request)
        body = self._shape(scope, request, result, facets_only)
        body["stale"] = not fresh
        return Answer(body=body, stale=not fresh, public=principal.kind != "search_admin")

    def search_many(self, principal: Principal, requests: list[SearchRequest]) -> Answer:
        fresh = all([self.fresh(r.min_version) for r in requests])
        results = []
        for request in requests:
            scope = self.scope(principal, request)
            results.append(self._shape(scope, request, self.backend.search(scope, request), False))
        return Answer(body={"results": results, "stale": not fresh}, stale=not fresh,
                      public=principal.kind != "search_admin")

    def suggest(self, principal: Principal, request: SearchRequest, limit: int) -> Answer:
        scope = self.scope(principal, request)
        words = self.backend.suggest(scope, request.doc_type, request.text.raw, limit) if request.text.raw.strip() else []
        return Answer(body={"suggestions": words, "locale": scope.locale})

    def product(self, principal: Principal, request: SearchRequest, handle: str) -> Answer:
        scope = self.scope(principal, request)
        fresh = self.fresh(request.min_version)
        document = self._documents.product_by_handle(scope, handle)
        return Answer(body={"document": document, "locale": scope.locale, "stale": not fresh}, stale=not fresh,
                      public=principal.kind != "search_admin")

    def content(self, principal: Principal, request: SearchRequest, kind: ContentKind, slug: str) -> Answer:
        scope = self.scope(principal, request)
        fresh = self.fresh(request.min_version)
        document = self._documents.content_by_slug(scope, kind, slug)
        return Answer(body={"document": document, "locale": scope.locale, "stale": not fresh}, stale=not fresh,
                      public=principal.kind != "search_admin")

    def _shape(self, scope: Scope, request: SearchRequest, result: SearchResult, facets_only: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "total": result.total, "locale": scope.locale, "requested_locale": request.locale,
            "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                       for name, values in result.facets.items()},
        }
        if facets_only:
            return body
        fields = PRODUCT_FIELDS if request.doc_type == "product" else CONTENT_FIELDS
        body["hits"] = [_hit(h.id, h.score, h.document, highlight_document(parsed(h.document), request.text, fields)
                             if request.highlight else None) for h in result.hits]
        body["sort"] = request.sort
        body["limit"] = request.page.limit
        body["offset"] = request.page.cursor.offset if request.page.cursor else request.page.offset
        body["next_cursor"] = encode_cursor(request.fingerprint(), result.next_cursor) if result.next_cursor else None
        return body


def _hit(doc_id: str, score: float | None, document: Document, highlights: dict[str, str] | None) -> dict[str, Any]:
    shown = document.fragment() if isinstance(document, StoredDocument) else document
    hit: dict[str, Any] = {"id": doc_id, "score": score, "document": shown}
    if highlights is not None:
        hit["highlights"] = highlights
    return hit


def doc_type_of(name: str) -> DocType:
    return "product" if name in ("product", "products") else "content"
