"""Facet counts of recent requests, valid for one generation of the index.

A storefront asks the same facet question over and over (the landing query of a category,
the popular words): the counts are the costliest part of an answer and change only when
the index does. The key holds the index generation (bumped by ``IndexHandle`` on every
reload or version switch), the caller's scope (tenant, locale, statuses) and everything
in the request that shapes the counts; an entry of an older generation is never read
again and ages out of the bounded LRU.

Two kinds of entry: the total with the counts of facets that have no filter of their
own (``facet_key``: every filter shapes them), and the counts of one filtered facet
(``disjunctive_key``). A filtered facet counts under every filter but its own, so a
shopper moving from one category to another asks the same category counts again: the
costliest pass of an answer (it reads the documents of the text without that filter) is
then read back, and only the narrower pass under every filter runs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Generic, TypeVar

from search_api.backends.base import Scope
from search_api.query import SearchRequest, without_filter

V = TypeVar("V")


def facet_key(doc_type: str, generation: int, scope: Scope, request: SearchRequest) -> Hashable:
    """Everything the facet counts and the total depend on; the page, sort and highlight do
    not, except that a price sort adds a price filter."""
    price_sort = request.sort in ("price_asc", "price_desc")
    return (doc_type, generation, scope, request.text, request.product_filters, request.content_filters,
            request.facets, request.facet_size, request.currency, price_sort)


def disjunctive_key(doc_type: str, generation: int, scope: Scope, request: SearchRequest, facet: str) -> Hashable:
    """What the counts of ``facet`` depend on when a filter of its own is set: ``facet_key``
    of the request without that filter and without the other facets asked for (they do
    not shape these counts)."""
    others = replace(without_filter(request, facet), facets=())
    return ("disjunctive", facet, facet_key(doc_type, generation, scope, others))


class LruCache(Generic[V]):
    """Parameters:
    size: entries kept; the least recently used goes first.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get_or_put(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``make()`` kept and returned (made outside the
        lock: two threads may both make it, and the later one is kept)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
