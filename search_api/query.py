"""The parsed, validated search request shared by every backend (pure).

``parse_product_search`` and ``parse_content_search`` read a multi-valued parameter
mapping (HTTP query string, or one entry of a multi-search body) and return a
``SearchRequest`` or raise ``InvalidQuery`` / ``QueryTooLarge`` with the parameter's
path. Prices are integers in minor units of ``currency``; dates are ISO 8601.

Nothing here names a tenant: the backend takes the tenant from the resolved key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from contracts.locale import InvalidLocale, Locale, parse_locale
from contracts.money import Currency, InvalidCurrency, parse_currency
from search_api.cursor import Cursor, decode_cursor
from search_api.errors import InvalidQuery, QueryTooLarge
from search_api.text import TextQuery, parse_text

DocType = Literal["product", "content"]
SortKey = Literal["relevance", "price_asc", "price_desc", "newest", "title"]
Status = Literal["draft", "published", "archived"]
ContentKind = Literal["page", "post", "topic"]
Params = Mapping[str, Sequence[str]]

PRODUCT_FACETS = ("category", "tag", "vendor", "product_type", "in_stock")
CONTENT_FACETS = ("kind", "category", "tag", "author")
OPTION_PREFIX = "option."
_PRODUCT_SORTS: tuple[SortKey, ...] = ("relevance", "price_asc", "price_desc", "newest", "title")
_CONTENT_SORTS: tuple[SortKey, ...] = ("relevance", "newest", "title")
_STATUSES: tuple[Status, ...] = ("draft", "published", "archived")
_KINDS: tuple[ContentKind, ...] = ("page", "post", "topic")
_PRODUCT_KEYS = {"q", "locale", "category", "tag", "vendor", "product_type", "currency", "price_min", "price_max",
                 "in_stock", "facets", "facet_size", "sort", "limit", "offset", "cursor", "highlight", "status",
                 "min_version"}
_CONTENT_KEYS = {"q", "locale", "kind", "category", "tag", "author", "published_from", "published_to", "facets",
                 "facet_size", "sort", "limit", "offset", "cursor", "highlight", "status", "min_version"}


@dataclass(frozen=True, slots=True)
class Limits:
    max_query_chars: int = 256
    max_page_size: int = 100
    max_offset: int = 10_000
    max_filter_values: int = 50


@dataclass(frozen=True, slots=True)
class PriceFilter:
    currency: Currency
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class ProductFilters:
    """Values of one filter are alternatives (OR); different filters all apply (AND)."""

    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    in_stock: bool | None = None
    price: PriceFilter | None = None
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class ContentFilters:
    kinds: tuple[ContentKind, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    published_from: datetime | None = None
    published_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 20
    offset: int = 0
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    doc_type: DocType
    text: TextQuery
    locale: Locale | None
    product_filters: ProductFilters = field(default_factory=ProductFilters)
    content_filters: ContentFilters = field(default_factory=ContentFilters)
    facets: tuple[str, ...] = ()
    facet_size: int = 20
    sort: SortKey = "relevance"
    currency: Currency | None = None
    page: Page = field(default_factory=Page)
    statuses: tuple[Status, ...] = ("published",)
    highlight: bool = False
    min_version: str | None = None

    def fingerprint(self) -> str:
        """Everything but the page position: a cursor is only valid for the query that made it."""
        parts = (self.doc_type, self.text.raw, self.locale, repr(self.product_filters), repr(self.content_filters),
                 self.sort, self.currency, self.statuses)
        return repr(parts)


_CLEAR_PRODUCT: dict[str, Callable[[ProductFilters], ProductFilters]] = {
    "category": lambda f: replace(f, categories=()), "tag": lambda f: replace(f, tags=()),
    "vendor": lambda f: replace(f, vendors=()), "product_type": lambda f: replace(f, product_types=()),
    "in_stock": lambda f: replace(f, in_stock=None),
}
_CLEAR_CONTENT: dict[str, Callable[[ContentFilters], ContentFilters]] = {
    "kind": lambda f: replace(f, kinds=()), "category": lambda f: replace(f, categories=()),
    "tag": lambda f: replace(f, tags=()), "author": lambda f: replace(f, authors=()),
}


def without_filter(request: SearchRequest, facet: str) -> SearchRequest:
    """``request`` without the filter whose values facet ``facet`` counts (a name of
    ``PRODUCT_FACETS``, ``CONTENT_FACETS`` or ``option.<name>``)."""
    if request.doc_type == "content":
        return replace(request, content_filters=_CLEAR_CONTENT[facet](request.content_filters))
    filters = request.product_filters
    if facet.startswith(OPTION_PREFIX):
        option = facet[len(OPTION_PREFIX):]
        return replace(request, product_filters=replace(filters, options=tuple(o for o in filters.options
                                                                              if o[0] != option)))
    return replace(request, product_filters=_CLEAR_PRODUCT[facet](filters))


def parse_product_search(params: Params, limits: Limits = Limits()) -> SearchRequest:
    _refuse_unknown(params, _PRODUCT_KEYS, OPTION_PREFIX)
    currency = _currency(params)
    filters = ProductFilters(
        categories=_values(params, "category", limits), tags=_values(params, "tag", limits),
        vendors=_values(params, "vendor", limits), product_types=_values(params, "product_type", limits),
        in_stock=_bool(params, "in_stock"), price=_price(params, currency), options=_options(params, limits))
    sort = _sort(params, _PRODUCT_SORTS)
    if sort in ("price_asc", "price_desc") and currency is None:
        raise InvalidQuery.at("currency", "sorting by price needs a currency")
    facets = _facets(params, PRODUCT_FACETS, allow_options=True)
    return _request("product", params, limits, sort, facets, product_filters=filters, currency=currency)


def parse_content_search(params: Params, limits: Limits = Limits(), kind: ContentKind | None = None) -> SearchRequest:
    _refuse_unknown(params, _CONTENT_KEYS, None)
    kinds: tuple[ContentKind, ...] = tuple(_choice("kind", v, _KINDS) for v in _values(params, "kind", limits))  # type: ignore[misc]
    if kind is not None:
        if kinds and kinds != (kind,):
            raise InvalidQuery.at("kind", f"this route serves kind {kind!r} only")
        kinds = (kind,)
    published_from, published_to = _date(params, "published_from"), _date(params, "published_to")
    if published_from and published_to and published_from > published_to:
        raise InvalidQuery.at("published_from", "must not be after published_to")
    filters = ContentFilters(kinds=kinds, categories=_values(params, "category", limits),
                             tags=_values(params, "tag", limits), authors=_values(params, "author", limits),
                             published_from=published_from, published_to=published_to)
    return _request("content", params, limits, _sort(params, _CONTENT_SORTS), _facets(params, CONTENT_FACETS),
                    content_filters=filters)


def _request(doc_type: DocType, params: Params, limits: Limits, sort: SortKey, facets: tuple[str, ...],
             **kwargs: object) -> SearchRequest:
    raw = _single(params, "q") or ""
    if len(raw) > limits.max_query_chars:
        raise QueryTooLarge.at("q", f"at most {limits.max_query_chars} characters")
    text = parse_text(raw)
    if sort == "relevance" and text.is_empty:
        sort = "newest"  # nothing to rank by: the freshest first, as a listing page expects
    request = SearchRequest(
        doc_type=doc_type, text=text, locale=_locale(params), facets=facets,
        facet_size=_int(params, "facet_size", 20, 1, 100), sort=sort, page=Page(), statuses=_statuses(params),
        highlight=_bool(params, "highlight") or False, min_version=_single(params, "min_version"),
        **kwargs)  # type: ignore[arg-type]
    return _with_page(request, params, limits)


def _with_page(request: SearchRequest, params: Params, limits: Limits) -> SearchRequest:
    limit = _single(params, "limit")
    if limit is not None and is_whole_number(limit) and int(limit) > limits.max_page_size:
        raise QueryTooLarge.at("limit", f"at most {limits.max_page_size}")
    size = _int(params, "limit", 20, 1, limits.max_page_size)
    offset_text = _single(params, "offset")
    if offset_text is not None and is_whole_number(offset_text) and int(offset_text) > limits.max_offset:
        raise QueryTooLarge.at("offset", f"at most {limits.max_offset}; use cursor to go deeper")
    offset = _int(params, "offset", 0, 0, limits.max_offset)
    token = _single(params, "cursor")
    cursor = decode_cursor(token, request.fingerprint(), request.sort) if token else None
    if cursor is not None and offset_text is not None:
        raise InvalidQuery.at("cursor", "give either cursor or offset, not both")
    return replace(request, page=Page(limit=size, offset=offset, cursor=cursor))


def _refuse_unknown(params: Params, known: set[str], open_prefix: str | None) -> None:
    for key in params:
        if key not in known and not (open_prefix and key.startswith(open_prefix)):
            raise InvalidQuery.at(key, "unknown parameter")


def _single(params: Params, key: str) -> str | None:
    values = params.get(key)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidQuery.at(key, "give this parameter once")
    return values[0]


def _values(params: Params, key: str, limits: Limits) -> tuple[str, ...]:
    raw = [part.strip() for value in params.get(key, ()) for part in value.split(",")]
    values = tuple(dict.fromkeys(v for v in raw if v))
    if len(values) > limits.max_filter_values:
        raise QueryTooLarge.at(key, f"at most {limits.max_filter_values} values")
    for value in values:
        if len(value) > 200:
            raise QueryTooLarge.at(key, "a value is longer than 200 characters")
    return values


def _options(params: Params, limits: Limits) -> tuple[tuple[str, tuple[str, ...]], ...]:
    options = []
    for key in sorted(params):
        if key.startswith(OPTION_PREFIX):
            name = key[len(OPTION_PREFIX):]
            if not name or len(name) > 100:
                raise InvalidQuery.at(key, "name an option, as in option.color=red")
            values = _values(params, key, limits)
            if values:
                options.append((name, values))
    return tuple(options)


def is_whole_number(text: str) -> bool:
    """ASCII digits, blanks around them allowed. ``str.isdigit`` alone also accepts digits that
    ``int`` refuses (superscripts such as "¹")."""
    stripped = text.strip()
    return stripped.isascii() and stripped.isdigit()


def _int(params: Params, key: str, default: int, low: int, high: int) -> int:
    text = _single(params, key)
    if text is None:
        return default
    if not is_whole_number(text):
        raise InvalidQuery.at(key, "expected a whole number (digits 0-9)")
    value = int(text)
    if not low <= value <= high:
        raise InvalidQuery.at(key, f"must be between {low} and {high}")
    return value


def _bool(params: Params, key: str) -> bool | None:
    text = _single(params, key)
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidQuery.at(key, "expected true or false")


def _choice(key: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidQuery.at(key, f"expected one of {', '.join(allowed)}")
    return value


def _sort(params: Params, allowed: tuple[SortKey, ...]) -> SortKey:
    value = _single(params, "sort") or "relevance"
    return _choice("sort", value.strip(), allowed)  # type: ignore[return-value]


def _statuses(params: Params) -> tuple[Status, ...]:
    values = [part.strip() for value in params.get("status", ()) for part in value.split(",") if part.strip()]
    statuses = tuple(dict.fromkeys(_choice("status", v, _STATUSES) for v in values))
    return statuses or ("published",)  # type: ignore[return-value]


def _facets(params: Params, allowed: tuple[str, ...], allow_options: bool = False) -> tuple[str, ...]:
    names = _values(params, "facets", Limits(max_filter_values=10))
    for name in names:
        option = allow_options and name.startswith(OPTION_PREFIX) and len(name) > len(OPTION_PREFIX)
        if name not in allowed and not option:
            raise InvalidQuery.at("facets", f"unknown facet {name[:40]!r}; expected {', '.join(allowed)}"
                                  + (" or option.<name>" if allow_options else ""))
    return names


def _locale(params: Params) -> Locale | None:
    text = _single(params, "locale")
    if text is None:
        return None
    try:
        return parse_locale(text)
    except InvalidLocale as error:
        raise InvalidQuery.at("locale", str(error)[:200]) from None


def _currency(params: Params) -> Currency | None:
    text = _single(params, "currency")
    if text is None:
        return None
    try:
        return parse_currency(text)
    except InvalidCurrency:
        raise InvalidQuery.at("currency", "expected an ISO 4217 code such as EUR") from None


def _price(params: Params, currency: Currency | None) -> PriceFilter | None:
    low = _int(params, "price_min", -1, 0, 2**53) if _single(params, "price_min") else None
    high = _int(params, "price_max", -1, 0, 2**53) if _single(params, "price_max") else None
    if low is None and high is None:
        return None
    if currency is None:
        raise InvalidQuery.at("currency", "a price range needs a currency")
    if low is not None and high is not None and low > high:
        raise InvalidQuery.at("price_min", "must not exceed price_max")
    return PriceFilter(currency=currency, min=low, max=high)


def _date(params: Params, key: str) -> datetime | None:
    text = _single(params, key)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidQuery.at(key, "expected an ISO 8601 date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
