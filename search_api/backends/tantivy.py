"""Search on the Tantivy index (the default backend).

Ordering is (sort key, id) like the PostgreSQL backend. Tantivy orders by one fast
field and breaks ties by document address, so the tie group at a page boundary is
fetched again ordered by id; documents without a sort value come last in both
directions. Price and newest cursors resume after (key, id); text fields cannot be
range-queried in Tantivy, so title and relevance cursors resume at a position.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import tantivy

from contracts.search_index import LAYOUTS
from search_api.backends import tantivy_query as tq
from search_api.backends.base import (Document, FacetValue, Hit, Scope, SearchResult, StoredDocument, next_cursor,
                                      sort_facet)
from search_api.backends.facet_cache import LruCache, disjunctive_key, facet_key
from search_api.backends.tantivy_index import IndexHandle
from search_api.cursor import SortValue
from search_api.query import OPTION_PREFIX, DocType, SearchRequest

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Row = tuple[SortValue, str, tantivy.DocAddress | None]
_SMALL_TIE_GROUP = 512
_TEXT_CACHE_SIZE = 1024
FacetAnswer = tuple[int, dict[str, list[FacetValue]]]


class TantivyBackend:
    """Parameters:
    root: the index root (``<root>/<doc_type>/v<version>/``).
    version_of: reads the live index version of a document type (the read-model alias).
    check_interval: seconds between checks for a new commit.
    workers: threads that fetch the page while the calling thread counts the facets (0: the
        calling thread does both, one after the other).
    version_known: whether ``version_of`` would now answer from memory (None: always); while
        it would not, ``answers_from_memory`` is False.
    facet_cache_size: facet answers, and apart filtered facets' counts, kept per process
        (``facet_cache``), 0 for none.
    """

    name = "tantivy"

    def __init__(self, root: Path, version_of: Any, check_interval: float = 0.0, workers: int = 4,
                 facet_cache_size: int = 4096, version_known: Callable[[str], bool] | None = None) -> None:
        self._handles = {t: IndexHandle(root, t, version_of, check_interval) for t in ("product", "content")}
        self._version_known = version_known
        # Tantivy releases the GIL while it searches, so the facet pass and the page pass of
        # one request run on two cores at once: latency is the longer pass, not their sum.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tantivy-pages") if workers else None
        self._answers: LruCache[FacetAnswer] = LruCache(facet_cache_size)
        self._disjunctive: LruCache[list[FacetValue]] = LruCache(facet_cache_size)
        # Text queries and the locale check of recent requests, per index generation: they
        # list words from the term dictionary (prefixes, the index's locales), ~0.2 ms a
        # query built twice a request (the page's and the facet pass's), in turn.
        self._texts: LruCache[tantivy.Query | None] = LruCache(_TEXT_CACHE_SIZE)
        self._implied: LruCache[bool] = LruCache(_TEXT_CACHE_SIZE)

    def answers_from_memory(self, doc_type: DocType) -> bool:
        """Local index files and memory only, unless the live version is due to be read again."""
        return self._version_known is None or self._version_known(doc_type)

    def search(self, scope: Scope, request: SearchRequest) -> SearchResult:
        handle = self._handles[request.doc_type]
        index = handle.index()
        if index is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in request.facets})
        generation = handle.generation  # before the searcher: never file counts under a newer generation
        schema, searcher = index.schema, index.searcher()
        filters = tq.request_filters(schema, scope, request)
        if not request.text.is_empty and self._implied.get_or_put(
                (request.doc_type, generation, scope.locale), lambda: tq.locale_implied_by_text(searcher, scope.locale)):
            del filters.named["_locale"]
        known = self._known_facets(generation, scope, request, filters)
        counting = bool(request.facets) and (bool(known.missing) or known.total is None)
        query = filters.combine(self._text_query(generation, schema, searcher, request, scope.locale, scoring=True))
        # With facets the aggregation pass counts the total; the page pass only ranks.
        count = not request.facets
        if not counting:
            counted, hits = _page(searcher, schema, query, request, count)
        else:
            matching = self._text_query(generation, schema, searcher, request, scope.locale, scoring=False)
            # The page pass goes to a worker and the facet pass, the longer one, runs here:
            # the worker's wake-up hides behind it, and its answer is usually waiting.
            page = self._pool.submit(_page, searcher, schema, query, request, count) if self._pool is not None else None
            found = _facets(searcher, filters, matching, request, known)
            counted, hits = page.result() if page is not None else _page(searcher, schema, query, request, count)
            self._remember(known, found)
        total = counted if known.total is None else known.total
        facets = {name: known.counts[name] for name in request.facets}
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor(request, hits, total))

    def _text_query(self, generation: int, schema: tantivy.Schema, searcher: tantivy.Searcher,
                    request: SearchRequest, locale: str, scoring: bool) -> tantivy.Query | None:
        """The request's text query, built once per index generation."""
        text, doc_type = request.text, request.doc_type
        if text.is_empty:
            return None
        key = (doc_type, generation, locale, text.terms, text.phrases, text.prefix_last, scoring)
        return self._texts.get_or_put(key, lambda: tq.text_query(schema, searcher, doc_type, locale, text, scoring))

    def _known_facets(self, generation: int, scope: Scope, request: SearchRequest, filters: tq.Filters) -> FacetParts:
        """The facet counts and the total this process already has for ``request``; what is
        missing is named, for ``_facets`` to count and ``_remember`` to keep."""
        if not request.facets:
            return FacetParts()
        keys: dict[str | None, Hashable] = {None: facet_key(request.doc_type, generation, scope, request)}
        parts = FacetParts(keys=keys)
        answer = self._answers.get(keys[None])
        if answer is not None:
            parts.total, shared = answer
            parts.counts.update(shared)
        for name in request.facets:
            if name in filters.named:  # a filtered facet counts under every filter but its own
                keys[name] = disjunctive_key(request.doc_type, generation, scope, request, name)
                counts = self._disjunctive.get(keys[name])
                if counts is None:
                    parts.missing.append(name)
                else:
                    parts.counts[name] = counts
        return parts

    def _remember(self, known: FacetParts, found: FacetParts) -> None:
        if found.total is not None:
            shared = {n: c for n, c in found.counts.items() if n not in known.keys}
            self._answers.put(known.keys[None], (found.total, shared))
            known.total = found.total
        for name in known.missing:
            self._disjunctive.put(known.keys[name], found.counts[name])
        known.counts.update(found.counts)
        known.missing = []

    def suggest(self, scope: Scope, doc_type: DocType, prefix: str, limit: int) -> list[str]:
        """Titles that start with ``prefix`` first, then titles with a word starting with it.

        Matched on the raw lower-cased ``title_sort`` field, not the stemmed text: a stem
        ("care") is not a prefix of what is being typed ("cari").
        """
        index = self._handles[doc_type].index()
        typed = prefix.strip().lower()
        if index is None or not typed:
            return []
        schema, searcher = index.schema, index.searcher()
        pattern = tantivy.Query.regex_query(schema, "title_sort", "(.* )?" + _regex_escape(typed) + ".*")
        hits = searcher.search(tq.scope_filters(schema, scope).combine(pattern), 1000, count=False,
                               order_by_field="title_sort", order=tantivy.Order.Asc).hits
        titles = [str(_load(searcher, address).get("title") or "") for _, address in hits]
        ranked = sorted((t for t in titles if t), key=lambda t: (not t.lower().startswith(typed), t.lower()))
        return list(dict.fromkeys(ranked))[:limit]

    def close(self) -> None:
        """Index handles hold no writer; only the facet threads are released."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _page(searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query, request: SearchRequest,
          count: bool) -> tuple[int, list[Hit]]:
    """The page, and the total when ``count`` (0 otherwise: the facet pass tells it)."""
    if request.sort == "relevance":
        return _relevance_page(searcher, query, request, count=count)
    return _sorted_page(searcher, schema, query, request, count)


def _load(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, Any]:
    raw = searcher.doc(address)["doc_json"][0]
    return orjson.loads(raw)  # type: ignore[no-any-return]


def _relevance_page(searcher: tantivy.Searcher, query: tantivy.Query, request: SearchRequest,
                    count: bool) -> tuple[int, list[Hit]]:
    """The page by score, and the total when ``count`` (without it top-k can skip blocks)."""
    start = request.page.cursor.offset if request.page.cursor else request.page.offset
    result = searcher.search(query, start + request.page.limit, count=count)
    hits = []
    for score, address in result.hits[start:]:
        stored = searcher.doc(address)
        hits.append(Hit(id=str(stored["id"][0]), document=StoredDocument(stored["doc_json"][0]), score=float(score)))
    return int(result.count or 0), hits  # type: ignore[attr-defined]


def _sorted_page(searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query,
                 request: SearchRequest, count: bool) -> tuple[int, list[Hit]]:
    """The page in sort order, and the total when ``count`` (0 otherwise)."""
    sorter = _Sorter(searcher, schema, request)
    cursor = request.page.cursor
    if cursor is not None and request.sort != "title":
        total = int(searcher.search(query, 1, count=True).count) if count else 0  # type: ignore[attr-defined]
        rows = sorter.after(query, cursor.key, cursor.id or "", request.page.limit)
    else:
        start = cursor.offset if cursor else request.page.offset
        total, rows = sorter.window(query, start, request.page.limit, count)
    hits = []
    for key, doc_id, address in rows:
        if address is None:
            hits.append(Hit(id=doc_id, document={}, sort_key=key))
            continue
        stored = searcher.doc(address)
        hits.append(Hit(id=doc_id or str(stored["id"][0]), document=StoredDocument(stored["doc_json"][0]), sort_key=key))
    return total, hits


class _Sorter:
    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, request: SearchRequest) -> None:
        self.searcher, self.schema = searcher, schema
        self.field = tq.sort_field(request)
        self.desc = request.sort in ("price_desc", "newest")
        self.is_date = self.field == "published_at"
        self.indexed = LAYOUTS[request.doc_type].indexed(self.field)

    def _key(self, raw: Any) -> SortValue:
        if raw is None:
            return None
        return int(raw) // 1_000_000_000 if self.is_date else raw  # dates come as nanoseconds; keep seconds

    def _order_key(self, row: Row) -> tuple[int, Any, str]:
        key = row[0]
        if key is None:
            return (1, 0, row[1])
        return (0, _neg(key) if self.desc else key, row[1])

    def window(self, query: tantivy.Query, start: int, n: int, count: bool = False) -> tuple[int, list[Row]]:
        """Rows ``start`` to ``start + n`` in (key, id) order, and the total when ``count``.

        One search fetches a row past the window: when that row's key differs from the
        window's last key, every row sharing the boundary key is already fetched, so the
        ties are ordered by id here. Otherwise (or when a key is missing, whose place in
        tantivy's order is not the API's) the boundary's tie group is fetched again by id.
        """
        want = start + n
        order = tantivy.Order.Desc if self.desc else tantivy.Order.Asc
        result = self.searcher.search(query, want + 1, count=count, order_by_field=self.field, order=order)
        total = int(result.count or 0) if count else 0  # type: ignore[attr-defined]
        fetched = [(self._key(v), a) for v, a in result.hits]
        if len(fetched) <= want or (fetched[want][0] != fetched[want - 1][0]
                                    and all(key is not None for key, _ in fetched)):
            return total, self._ordered(fetched[:want])[start:want]
        rows: list[Row] = [(key, self._id(a), a) for key, a in fetched[:want]]
        boundary = rows[-1][0]
        before = [r for r in rows if r[0] != boundary and not (boundary is None and r[0] is None)]
        rows = before + self._ties(query, boundary, "", want - len(before))
        return total, sorted(rows, key=self._order_key)[start:want]

    def _ordered(self, fetched: list[tuple[SortValue, tantivy.DocAddress]]) -> list[Row]:
        """``fetched`` (every row of each key it holds) in (key, id) order; ids are read only
        where keys repeat, the only place they decide the order."""
        repeated = {key for key, n in Counter(key for key, _ in fetched).items() if n > 1}
        rows: list[Row] = [(key, self._id(a) if key in repeated else "", a) for key, a in fetched]
        return sorted(rows, key=self._order_key)

    def after(self, query: tantivy.Query, key: SortValue, last_id: str, n: int) -> list[Row]:
        rows = self._ties(query, key, last_id, n)
        if len(rows) < n and key is not None:
            later = tantivy.Query.boolean_query([(tq.Must, query), (tq.Must, self._strictly_after(key))])
            rows += self.window(later, 0, n - len(rows))[1]
        return rows

    def _ties(self, query: tantivy.Query, key: SortValue, after_id: str, n: int) -> list[Row]:
        """Documents of ``query`` whose sort value equals ``key``, by id, ids above ``after_id``."""
        same = tantivy.Query.boolean_query([(tq.Must, query), (tq.Must, self._equals(key))] if key is not None else
                                           [(tq.Must, query), (tq.MustNot, tantivy.Query.exists_query(self.field))])
        # Ordering by the text field ``id`` costs milliseconds whatever the group's size
        # (5 ms for 273 ties in 300k documents); a small group is read unordered and its ids
        # sorted here, a stored-document read each (~8 us).
        group = self.searcher.search(same, _SMALL_TIE_GROUP + 1, count=False).hits
        if len(group) <= _SMALL_TIE_GROUP:
            rows: list[Row] = sorted(((key, self._id(a), a) for _, a in group), key=lambda row: row[1])
            return [row for row in rows if row[1] > after_id][:n]
        limit = n + 64
        while True:
            found = self.searcher.search(same, limit, count=False, order_by_field="id", order=tantivy.Order.Asc).hits
            rows = [(key, str(v), a) for v, a in found if str(v) > after_id]
            if len(rows) >= n or len(found) < limit:
                return rows[:n]
            limit *= 4

    def _equals(self, key: SortValue) -> tantivy.Query:
        """A term query where the field is indexed (the posting list of one value, where a range
        query scans the column); prices are fast fields only, so there the range [key, key]."""
        if not self.indexed:
            return self._range(key, key)
        value = _EPOCH + timedelta(seconds=int(key)) if self.is_date else key  # type: ignore[arg-type]
        return tantivy.Query.term_query(self.searcher_schema, self.field, value)

    def _strictly_after(self, key: SortValue) -> tantivy.Query:
        assert isinstance(key, int)
        bounded = self._range(None, key - 1) if self.desc else self._range(key + 1, None)
        missing = tantivy.Query.boolean_query([(tq.Must, tantivy.Query.all_query()),
                                               (tq.MustNot, tantivy.Query.exists_query(self.field))])
        return tantivy.Query.boolean_query([(tq.Should, bounded), (tq.Should, missing)])

    def _range(self, low: SortValue, high: SortValue) -> tantivy.Query:
        if self.is_date:
            dates = [None if v is None else _EPOCH + timedelta(seconds=int(v)) for v in (low, high)]
            return tantivy.Query.range_query(self.searcher_schema, self.field, tantivy.FieldType.Date, dates[0], dates[1])
        ints = [None if v is None else int(v) for v in (low, high)]
        return tantivy.Query.range_query(self.searcher_schema, self.field, tantivy.FieldType.Integer, ints[0], ints[1])

    @property
    def searcher_schema(self) -> tantivy.Schema:
        assert self.schema is not None
        return self.schema

    def _id(self, address: tantivy.DocAddress) -> str:
        return str(self.searcher.doc(address)["id"][0])


def _neg(key: SortValue) -> Any:
    if isinstance(key, int):
        return -key
    assert isinstance(key, str)
    return tuple(-b for b in key.encode())  # descending text never happens today; keep the order total


@dataclass(slots=True)
class FacetParts:
    """Facet counts of one request in parts: ``total`` with the unfiltered facets' counts
    (None: not known yet), and each filtered facet's counts; ``missing`` names the
    filtered facets still to count, ``keys`` their cache keys (``None``: the total's)."""

    total: int | None = None
    counts: dict[str, list[FacetValue]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    keys: dict[str | None, Hashable] = field(default_factory=dict)


def _facets(searcher: tantivy.Searcher, filters: tq.Filters, text: tantivy.Query | None,
            request: SearchRequest, known: FacetParts) -> FacetParts:
    """What ``known`` lacks, in one aggregation pass: the total with the unfiltered facets'
    counts when ``known.total`` is None, and the counts of each facet in ``known.missing``.

    A facet's counts leave out its own filter (disjunctive facets), so the pass runs over
    the documents matching every filter but those of the missing facets; a ``filter``
    aggregation narrows it to every filter (the total, and the facets without a filter of
    their own) and each missing facet counts under the other missing facets' filters.
    """
    missing = known.missing
    terms = {name: _terms(request.doc_type, name) for name in request.facets}
    keys = {name: f"f{i}" for i, name in enumerate(request.facets)}
    aggs: dict[str, Any] = {}
    if known.total is None:
        shared = {keys[n]: terms[n] for n in request.facets if n not in filters.named}
        aggs["all"] = {"filter": filters.expression(missing), "aggs": shared}
    for name in missing:
        others = [a for a in missing if a != name]
        aggs[keys[name]] = {"filter": filters.expression(others), "aggs": {"v": terms[name]}} if others else terms[name]
    result = searcher.aggregate(filters.combine(text, without=missing), aggs)
    found = FacetParts()
    if "all" in result:
        found.total = int(result["all"]["doc_count"])
        for name in request.facets:
            if name not in filters.named:
                found.counts[name] = _buckets(name, result["all"][keys[name]], request.facet_size)
    for name in missing:
        counted = result[keys[name]]
        found.counts[name] = _buckets(name, counted.get("v", counted), request.facet_size)
    return found


def _terms(doc_type: str, facet: str) -> dict[str, Any]:
    terms: dict[str, Any] = {"field": tq.facet_field(doc_type, facet), "size": 1000, "segment_size": 1000}
    if facet.startswith(OPTION_PREFIX):
        terms["include"] = _regex_escape(facet[len(OPTION_PREFIX):] + "=") + ".*"
    return {"terms": terms}


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def _buckets(facet: str, result: dict[str, Any], size: int) -> list[FacetValue]:
    counts: dict[str, int] = {}
    strip = len(facet) - len(OPTION_PREFIX) + 1 if facet.startswith(OPTION_PREFIX) else 0
    for bucket in result.get("buckets", []):
        key = bucket.get("key_as_string", bucket["key"])
        counts[str(key)[strip:]] = int(bucket["doc_count"])
    return sort_facet(counts, size)
