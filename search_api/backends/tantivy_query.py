"""Tantivy queries from a ``SearchRequest`` under the ``contracts.search_index`` layout.

Text: every term must match in some text field of the locale's analyzer; a term
matches exactly (BM25, times the field's boost) or, when long enough, within its typo
distance (a constant, lower score, so exact matches rank first); the last term being
typed also matches as a prefix (a constant score), its words listed from the term
dictionary when they are few. Phrases match word for word in one field.
Filters are kept per facet name, so a facet's counts can leave out its own filter.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

import tantivy

from contracts.search_index import ANALYZERS, LAYOUTS, Analyzer, analysed_field, analyzer_for_locale, price_field
from search_api.backends.base import Scope
from search_api.query import OPTION_PREFIX, SearchRequest
from search_api.text import TextQuery, typo_distance

Must, Should, MustNot = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot
_FUZZY_WEIGHT = 0.3
_PREFIX_WEIGHT = 0.5
# Typo and prefix matching build an automaton and a bitset per field: only the short,
# boosted fields (title, subtitle or excerpt, tags, category names) get them.
_FUZZY_MIN_BOOST = 1.5
# A prefix shorter than this spans a large part of the term dictionary (every number
# starting with "1"): listing it costs more than the automaton, which is used instead.
_LIST_PREFIX_MIN_CHARS = 3
# Past this many longer words the automaton (one bitset) is cheaper than one scorer each.
_MAX_LISTED_EXPANSIONS = 16


def build_analyzer(analyzer: Analyzer) -> tantivy.TextAnalyzer:
    """The same chain the sink registers (contracts.search_index documents it)."""
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
               .filter(tantivy.Filter.remove_long(analyzer.remove_long)).filter(tantivy.Filter.lowercase()))
    if analyzer.stemmer is not None:
        builder = builder.filter(tantivy.Filter.stemmer(analyzer.stemmer))
    return builder.build()


ANALYZER_OBJECTS = {a.language: build_analyzer(a) for a in ANALYZERS}


def register_analyzers(index: tantivy.Index) -> None:
    for analyzer in ANALYZERS:
        index.register_tokenizer(analyzer.tokenizer, ANALYZER_OBJECTS[analyzer.language])


@dataclass(slots=True)
class Filters:
    """Filters by name; ``expressions`` holds the facet filters again as query-parser text,
    the form a ``filter`` aggregation takes (facet counts in one aggregation pass)."""

    named: dict[str, tantivy.Query] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)

    def combine(self, text: tantivy.Query | None, without: Collection[str] = ()) -> tantivy.Query:
        # Filters must not score: a multi-valued filter field would otherwise tilt relevance.
        parts = [(Must, tantivy.Query.const_score_query(q, 0.0)) for name, q in self.named.items() if name not in without]
        if text is not None:
            parts.append((Must, text))
        return tantivy.Query.boolean_query(parts)

    def expression(self, names: Collection[str]) -> str:
        """The named filters AND-ed as query-parser text (``*``, every document, for none)."""
        return " AND ".join(f"({self.expressions[name]})" for name in names) or "*"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_term_expression(field_name: str, values: tuple[str, ...]) -> str:
    if len(values) == 1:
        return f"{field_name}:{_quoted(values[0])}"
    return f"{field_name}:IN [" + " ".join(_quoted(v) for v in values) + "]"


def text_query(schema: tantivy.Schema, searcher: tantivy.Searcher, doc_type: str, locale: str,
               text: TextQuery, scoring: bool = True) -> tantivy.Query | None:
    """``searcher`` lists the words a typed prefix starts (its term dictionary). Without
    ``scoring`` the query matches the same documents with fewer clauses (for counting): a
    word's exact clause is left out where its typo clause matches it anyway."""
    if text.is_empty:
        return None
    analyzer = analyzer_for_locale(locale)
    fields = [(analysed_field(f.name, analyzer), f.boost) for f in LAYOUTS[doc_type].text_fields]  # type: ignore[index]
    tokenize = ANALYZER_OBJECTS[analyzer.language].analyze
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for index, term in enumerate(text.terms):
        prefix = text.prefix_last and index == len(text.terms) - 1
        for token in tokenize(term):
            clauses.append((Must, _term_query(schema, searcher, fields, term, token, prefix, scoring)))
    for phrase in text.phrases:
        words = [t for word in phrase for t in tokenize(word)]
        if len(words) == 1:
            clauses.append((Must, _term_query(schema, searcher, fields, words[0], words[0], False, scoring)))
        elif words:
            options = [(Should, tantivy.Query.boost_query(tantivy.Query.phrase_query(schema, name, list[str | tuple[int, str]](words)), boost))
                       for name, boost in fields]
            clauses.append((Must, tantivy.Query.boolean_query(options)))
    return tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.empty_query()


def _term_query(schema: tantivy.Schema, searcher: tantivy.Searcher, fields: list[tuple[str, float]], term: str,
                token: str, prefix: bool, scoring: bool) -> tantivy.Query:
    distance = typo_distance(term)
    options: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for name, boost in fields:
        typo = bool(distance) and boost >= _FUZZY_MIN_BOOST
        if scoring or not typo:
            options.append((Should, _boosted(tantivy.Query.term_query(schema, name, token), boost if scoring else 1.0)))
        if typo:
            fuzzy = tantivy.Query.fuzzy_term_query(schema, name, token, distance, True, False)
            options.append((Should, _boosted(fuzzy, boost * _FUZZY_WEIGHT if scoring else 1.0)))
        if prefix and boost >= _FUZZY_MIN_BOOST:
            # Counting, the word itself is matched already by its exact or typo clause.
            options += _prefix_options(schema, searcher, name, (token, term), boost * _PREFIX_WEIGHT,
                                       set() if scoring else {token})
    return tantivy.Query.boolean_query(options)


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _prefix_options(schema: tantivy.Schema, searcher: tantivy.Searcher, name: str, stems: tuple[str, str],
                    weight: float, matched: set[str]) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    """The words of field ``name`` starting with the stemmed or the raw typed word, each at
    score ``weight``: the automaton's answer, from one term scorer per listed word instead of
    a bitset of the whole segment, while the list is short; words in ``matched`` are left out."""
    cap = _MAX_LISTED_EXPANSIONS + 1
    if min(len(s) for s in stems) >= _LIST_PREFIX_MIN_CHARS:
        listed = [searcher.terms_with_prefix(name, stem, limit=cap) for stem in dict.fromkeys(stems)]
        words = {t for found in listed for t, _ in found}
        if all(len(found) < cap for found in listed) and len(words) <= _MAX_LISTED_EXPANSIONS:
            return [(Should, tantivy.Query.const_score_query(tantivy.Query.term_query(schema, name, t), weight))
                    for t in sorted(words - matched)]
    return [(Should, tantivy.Query.boost_query(tantivy.Query.fuzzy_term_query(schema, name, stem, 0, True, True), weight))
            for stem in dict.fromkeys(stems)]


def locale_implied_by_text(searcher: tantivy.Searcher, locale: str) -> bool:
    """Whether a text clause alone keeps a search in ``locale``: a document's words are in the
    fields of its own locale's analyzer, so when no other locale in the index shares that
    analyzer (``en`` beside ``en-GB`` would), the locale filter adds nothing but its cost, a
    seek into a posting list of a third of the index for every candidate."""
    analyzer = analyzer_for_locale(locale)
    return all(t == locale or analyzer_for_locale(t) != analyzer for t, _ in searcher.terms_with_prefix("locale", ""))


def scope_filters(schema: tantivy.Schema, scope: Scope) -> Filters:
    filters = Filters()
    filters.named["_tenant"] = tantivy.Query.term_query(schema, "tenant_id", str(scope.tenant_id))
    filters.named["_locale"] = tantivy.Query.term_query(schema, "locale", scope.locale)
    filters.named["_status"] = _any_term(schema, "status", scope.statuses)
    return filters


def _any_term(schema: tantivy.Schema, field_name: str, values: tuple[str, ...]) -> tantivy.Query:
    """One value: a plain term query (a term set builds a bitset of every match, costly on a common term)."""
    if len(values) == 1:
        return tantivy.Query.term_query(schema, field_name, values[0])
    return tantivy.Query.term_set_query(schema, field_name, list(values))


def request_filters(schema: tantivy.Schema, scope: Scope, request: SearchRequest) -> Filters:
    filters = scope_filters(schema, scope)
    named = filters.named

    def one_of(name: str, field_name: str, values: tuple[str, ...]) -> None:
        if values:
            named[name] = _any_term(schema, field_name, values)
            filters.expressions[name] = _any_term_expression(field_name, values)

    if request.doc_type == "product":
        f = request.product_filters
        one_of("category", "category_handles", f.categories)
        one_of("tag", "tag_slugs", f.tags)
        one_of("vendor", "vendor_raw", f.vendors)
        one_of("product_type", "product_type", f.product_types)
        if f.in_stock is not None:
            named["in_stock"] = tantivy.Query.term_query(schema, "in_stock", f.in_stock)
            filters.expressions["in_stock"] = f"in_stock:{str(f.in_stock).lower()}"
        for name, values in f.options:
            one_of(OPTION_PREFIX + name, "option_values", tuple(f"{name}={v}" for v in values))
        currency = f.price.currency if f.price else request.currency
        if currency is not None and (f.price is not None or request.sort in ("price_asc", "price_desc")):
            low = f.price.min if f.price and f.price.min is not None else 0
            high = f.price.max if f.price and f.price.max is not None else 2**62
            named["_price"] = tantivy.Query.range_query(schema, price_field("min", currency), tantivy.FieldType.Integer,
                                                        low, high)
    else:
        c = request.content_filters
        one_of("kind", "kind", c.kinds)
        one_of("category", "category_slug", c.categories)
        one_of("tag", "tag_slugs", c.tags)
        one_of("author", "author_id", c.authors)
        if c.published_from or c.published_to:
            since = _clamp(c.published_from) if c.published_from else _EARLIEST
            until = _clamp(c.published_to) if c.published_to else _LATEST
            named["_published"] = tantivy.Query.range_query(schema, "published_at", tantivy.FieldType.Date, since, until)
    return filters


# Tantivy stores dates as i64 nanoseconds (years 1678 to 2261): clamp what a client sends.
_EARLIEST, _LATEST = datetime(1700, 1, 1, tzinfo=UTC), datetime(2260, 1, 1, tzinfo=UTC)


def _clamp(value: datetime) -> datetime:
    return min(max(value.astimezone(UTC), _EARLIEST), _LATEST)


FACET_FIELDS = {
    "product": {"category": "category_handles", "tag": "tag_slugs", "vendor": "vendor_raw",
                "product_type": "product_type", "in_stock": "in_stock"},
    "content": {"kind": "kind", "category": "category_slug", "tag": "tag_slugs", "author": "author_id"},
}


def facet_field(doc_type: str, facet: str) -> str:
    return "option_values" if facet.startswith(OPTION_PREFIX) else FACET_FIELDS[doc_type][facet]


def sort_field(request: SearchRequest) -> str:
    if request.sort in ("price_asc", "price_desc"):
        assert request.currency is not None
        return price_field("min", request.currency)
    return "title_sort" if request.sort == "title" else "published_at"
