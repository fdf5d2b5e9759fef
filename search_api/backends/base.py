"""The search backend port and what it returns.

A backend answers a ``SearchRequest`` inside a ``Scope``. The scope is built by the
app from the caller's key or host, never from the request: the backend adds the tenant,
locale and status conditions to every query itself, so no parameter can widen them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import orjson

from contracts.locale import Locale
from search_api.cursor import Cursor, SortValue
from search_api.query import DocType, SearchRequest, Status


@dataclass(frozen=True, slots=True)
class Scope:
    """Parameters:
    tenant_id: the only tenant whose documents may be read.
    locale: the effective locale after fallback (one of the tenant's enabled locales).
    statuses: document statuses the caller may see (published only for public keys).
    """

    tenant_id: UUID
    locale: Locale
    statuses: tuple[Status, ...] = ("published",)


class StoredDocument:
    """A document as the index stored it (JSON bytes): written into an answer as it is, and
    parsed only when something reads it (highlighting). Parsing twenty documents per page
    only to serialize them again cost about 0.5 ms a request."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def fragment(self) -> orjson.Fragment:
        return orjson.Fragment(self.raw)

    def parsed(self) -> dict[str, Any]:
        return orjson.loads(self.raw)  # type: ignore[no-any-return]


Document = dict[str, Any] | StoredDocument


def parsed(document: Document) -> dict[str, Any]:
    return document.parsed() if isinstance(document, StoredDocument) else document


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    document: Document
    score: float | None = None
    sort_key: SortValue = None


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    next_cursor: Cursor | None = None


class SearchBackend(Protocol):
    name: str

    def search(self, scope: Scope, request: SearchRequest) -> SearchResult:
        """Hits of one page, the exact total and the requested facet counts."""

    def suggest(self, scope: Scope, doc_type: DocType, prefix: str, limit: int) -> list[str]:
        """Titles starting with (or containing a word starting with) ``prefix``, best first."""

    def answers_from_memory(self, doc_type: DocType) -> bool:
        """Whether searching ``doc_type`` now would read only local indexes and memory (no
        network round trip, nothing that can block for long): it may then run on the event loop."""

    def close(self) -> None: ...


def sort_facet(counts: dict[str, int], size: int) -> list[FacetValue]:
    """Most frequent first, then by value, so both backends list facets identically."""
    ordered = sorted(((v, c) for v, c in counts.items() if c > 0), key=lambda item: (-item[1], item[0]))
    return [FacetValue(value, count) for value, count in ordered[:size]]


def next_cursor(request: SearchRequest, hits: list[Hit], total: int) -> Cursor | None:
    """Where the next page starts; every cursor also carries its position (title, relevance)."""
    start = request.page.cursor.offset if request.page.cursor else request.page.offset
    following = start + len(hits)
    if len(hits) < request.page.limit or following >= total:
        return None
    if request.sort == "relevance":
        return Cursor(sort="relevance", offset=following)
    last = hits[-1]
    return Cursor(sort=request.sort, key=last.sort_key, id=last.id, offset=following)
