"""The Tantivy search-index layout, as plain data shared by the sink and the search API.

The pipelines' Tantivy sink builds its indexes from this module and the search API
codes its queries against it; neither imports the other. Nothing here imports
tantivy: ``pipelines.sinks.tantivy_schema`` turns the data into a ``tantivy.Schema``
and registers the analyzers; the search API must register the same analyzers (by
the names in ``ANALYZERS``) on every ``tantivy.Index`` it opens, e.g. by calling
``pipelines``-free code of its own over ``ANALYZERS`` or by copying
``tantivy_schema.register_analyzers`` (it only reads this module).

Directory layout: ``<root>/<doc_type>/v<index_version>/`` holds one index per
document type (``product``, ``content``) and index version. Several tenants and
locales share one index.

Rules a query must follow:

* Tenant isolation: every query must include ``term(tenant_id, "<uuid>")`` (raw,
  lower-case canonical UUID text) and, for locale-scoped searches,
  ``term(locale, "<tag>")``. Both are raw (untokenised) fast fields.
* Analysed text: each searchable text field exists once per analyzer
  (``title__english``, ``title__german``, ``title__russian``, ``title__simple``...).
  A document fills only the fields of its own locale's analyzer
  (``analyzer_for_locale(doc.locale)``), so a search in locale ``de-AT`` queries
  ``analysed_field("title", analyzer_for_locale("de-AT"))`` = ``title__german``.
  The analyzer is registered under ``Analyzer.tokenizer`` (``rustok_german``):
  simple tokenizer, remove tokens longer than 40 bytes, lowercase, then
  ``Filter.stemmer(Analyzer.stemmer)`` when the language has one. Stemmed
  languages are exactly those tantivy 0.27 can stem (``STEMMED_LANGUAGES``); every
  other language uses ``simple`` (lowercase, no stemming). PostgreSQL has stemmers
  for a few more languages (catalan, serbian, ...): those stem in the JSONB read
  table but not in Tantivy.
* Boosts for relevance are in ``LayoutField.boost`` (title highest).
* Prices: per currency two i64 fast fields (not indexed), ``price_min__EUR`` and
  ``price_max__EUR`` (minor units; see ``price_field``), for every ISO 4217 code in
  ``CURRENCIES``. Range filter in one currency: ``Query.range_query(schema,
  price_field("min", "EUR"), FieldType.Integer, lo, hi)`` (or overlap of
  [price_min, price_max] with [lo, hi]); sort: ``searcher.search(q,
  order_by_field=price_field("min", "EUR"), order=Order.Asc)``. Verified with
  tantivy 0.27: range queries and ordering work on these integer fields, while
  they do NOT work on JSON sub-paths in the Python binding, hence one field per
  currency. Fast only: a range query reads the column, and no term query is ever
  run on a price (an equal price is the range [p, p]). Indexed, the 358 fields
  doubled the CPU of a commit: a term dictionary each, in every segment written or
  merged (session 15). A document without a price in that currency has no value
  there (sorted last in both orders; ``Query.exists_query(field)`` filters it).
  ``currencies`` lists the currencies a product has, as raw terms.
* Facets: ``category`` holds ``/<root handle>/.../<handle>`` per category of a
  product (content: ``/<category slug>``); ``tag`` holds ``/<tag slug>``. A term
  query on ``Facet.from_string("/men")`` also matches ``/men/shirts``. For facet
  counts the raw multi-valued fast fields ``category_handles`` and ``tag_slugs``
  work with ``searcher.aggregate(q, {"c": {"terms": {"field": "tag_slugs"}}})``.
* Dates (``published_at``, ``created_at``, ``updated_at``) are fast+indexed date
  fields (UTC); ``title_sort`` is a lower-cased raw fast field for sorting by title.
* ``doc_json`` is a stored bytes field holding the whole document as JSON (UTF-8),
  ``ProductDocument.model_validate_json(doc["doc_json"][0])`` rebuilds it. ``id``
  is stored too; other fields are not stored (use ``doc_json``).
* ``root_key`` (``<tenant_id>/<id>``) and the i64 fast field ``version`` are the
  sink's bookkeeping: every document of a root carries the emission's version.
* Tombstones: when a root is removed the sink keeps one marker document holding only
  ``root_key``, ``version`` and ``tombstone=true`` (no tenant_id, no locale), so a
  late older emission cannot bring the root back. A query that filters on
  ``tenant_id`` (as every query must) never sees them; ``searcher.num_docs`` counts them.

``document_fields(doc)`` maps a document to ``{field name: [values]}`` (str, int,
bool, datetime, facet path str, bytes) so the sink and any test agree on what a
document puts in which field.

Changes after the first commit (kept compatible): added the ``tombstone`` bool field
(tombstone markers, see above). ``LAYOUT_VERSION``
changes whenever an existing index can no longer be read with this module.
Version 2: the price fields are no longer indexed (fast only). An index written under
version 1 has another schema: the sink refuses to open it (``SinkConfigError``); rebuild
it into a new index version (``rustok replay``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Union

from contracts.documents import ContentDocument, ProductDocument

LAYOUT_VERSION = 2

FieldKind = Literal["raw", "text", "integer", "float", "date", "facet", "bool", "json", "bytes"]
FieldValue = Union[str, int, float, bool, datetime, bytes]
DocType = Literal["product", "content"]


@dataclass(frozen=True, slots=True)
class Analyzer:
    """A text analyzer: ``tokenizer`` is the name it is registered under in Tantivy;
    ``stemmer`` is the language passed to ``tantivy.Filter.stemmer`` (None: no stemming)."""

    language: str
    tokenizer: str
    stemmer: str | None
    remove_long: int = 40


# Every language tantivy 0.27's Filter.stemmer accepts (probed; others raise "Unsupported language").
STEMMED_LANGUAGES: dict[str, str] = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
    "fr": "french", "de": "german", "el": "greek", "hu": "hungarian", "it": "italian",
    "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "es": "spanish", "sv": "swedish", "ta": "tamil",
    "tr": "turkish",
}

SIMPLE = Analyzer(language="simple", tokenizer="rustok_simple", stemmer=None)
ANALYZERS: tuple[Analyzer, ...] = tuple(
    Analyzer(language=lang, tokenizer=f"rustok_{lang}", stemmer=lang)
    for lang in sorted(set(STEMMED_LANGUAGES.values()))
) + (SIMPLE,)
_BY_LANGUAGE = {a.language: a for a in ANALYZERS}


def analyzer_for_locale(locale: str) -> Analyzer:
    """The analyzer of a locale's language (``de-AT`` → german), ``simple`` otherwise."""
    language = STEMMED_LANGUAGES.get(locale.split("-", 1)[0].lower())
    return _BY_LANGUAGE[language] if language else SIMPLE


def analysed_field(base: str, analyzer: Analyzer) -> str:
    """Name of an analysed text field for one analyzer (``title`` + german → ``title__german``)."""
    return f"{base}__{analyzer.language}"


# ISO 4217 codes (pycountry 26.2.16). A currency outside this list cannot be filtered
# or sorted on in Tantivy (it stays in doc_json); adding one is a new LAYOUT_VERSION.
CURRENCIES: tuple[str, ...] = tuple(
    """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
    PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
    SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND
    VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER
    ZAR ZMW ZWG""".split()
)
_CURRENCY_SET = frozenset(CURRENCIES)


def price_field(bound: Literal["min", "max"], currency: str) -> str:
    """The i64 fast field holding a product's lowest or highest price in ``currency``."""
    return f"price_{bound}__{currency}"


@dataclass(frozen=True, slots=True)
class LayoutField:
    """One field of an index. For kind ``text`` the field is a base name expanded per
    analyzer (see ``analysed_field``); every other kind is one concrete field."""

    name: str
    kind: FieldKind
    stored: bool = False
    fast: bool = False
    indexed: bool = True
    boost: float = 1.0
    doc: str = ""


@dataclass(frozen=True, slots=True)
class IndexLayout:
    doc_type: DocType
    fields: tuple[LayoutField, ...]

    @property
    def text_fields(self) -> tuple[LayoutField, ...]:
        return tuple(f for f in self.fields if f.kind == "text")

    def concrete_fields(self) -> tuple[LayoutField, ...]:
        """Every schema field, with text fields expanded per analyzer."""
        out: list[LayoutField] = []
        for f in self.fields:
            if f.kind != "text":
                out.append(f)
                continue
            for analyzer in ANALYZERS:
                out.append(LayoutField(analysed_field(f.name, analyzer), "text", f.stored, f.fast, True, f.boost, f.doc))
        return tuple(out)

    def indexed(self, field_name: str) -> bool:
        """Whether ``field_name`` has an inverted index (term queries work on it)."""
        return _by_name(self)[field_name].indexed


def _raw(name: str, doc: str, stored: bool = False) -> LayoutField:
    return LayoutField(name, "raw", stored=stored, fast=True, indexed=True, doc=doc)


_COMMON: tuple[LayoutField, ...] = (
    _raw("id", "entity id, lower-case UUID", stored=True),
    _raw("tenant_id", "tenant, lower-case UUID: in every query"),
    _raw("locale", "normalised BCP 47 tag of the document"),
    _raw("resolved_locale", "locale the text came from after fallback"),
    _raw("root_key", "<tenant_id>/<id>: the sink's delete term"),
    LayoutField("version", "integer", stored=False, fast=True, indexed=True, doc="source LSN of the emission"),
    LayoutField("tombstone", "bool", fast=True, indexed=True, doc="true only on a deleted root's marker"),
    _raw("status", "draft | published | archived"),
    _raw("tag_slugs", "tag slugs (multi-valued), for filters and facet counts"),
    LayoutField("tag", "facet", doc="/<tag slug>"),
    LayoutField("category", "facet", doc="product: /<root handle>/.../<handle>; content: /<slug>"),
    _raw("title_sort", "lower-cased title, for sorting"),
    LayoutField("published_at", "date", fast=True, indexed=True),
    LayoutField("created_at", "date", fast=True, indexed=True),
    LayoutField("updated_at", "date", fast=True, indexed=True),
    LayoutField("doc_json", "bytes", stored=True, indexed=False, doc="the whole document as JSON"),
)

PRODUCT_LAYOUT = IndexLayout(
    doc_type="product",
    fields=_COMMON + (
        _raw("handle", "product handle"),
        _raw("category_handles", "each category handle and its ancestors (multi-valued)"),
        _raw("skus", "variant SKUs (multi-valued)"),
        _raw("currencies", "currencies the product has a price in"),
        _raw("vendor_raw", "vendor as one term, for filters"),
        _raw("product_type", "product type as one term"),
        _raw("option_values", "<option name>=<value> per variant option value (multi-valued)"),
        LayoutField("total_stock", "integer", fast=True, indexed=True),
        LayoutField("in_stock", "bool", fast=True, indexed=True),
        LayoutField("variant_count", "integer", fast=True, indexed=True),
        LayoutField("title", "text", boost=3.0),
        LayoutField("subtitle", "text", boost=2.0),
        LayoutField("tags", "text", boost=1.5),
        LayoutField("category_names", "text", boost=1.5),
        LayoutField("vendor", "text", boost=1.2),
        LayoutField("description", "text", boost=1.0),
    ) + tuple(
        LayoutField(price_field(bound, cur), "integer", fast=True, indexed=False)
        for cur in CURRENCIES for bound in ("min", "max")
    ),
)

CONTENT_LAYOUT = IndexLayout(
    doc_type="content",
    fields=_COMMON + (
        _raw("kind", "page | post | topic"),
        _raw("slug", "slug (absent when the node has none)"),
        _raw("category_slug", "content category slug"),
        _raw("author_id", "author user id"),
        _raw("parent_id", "parent node id"),
        LayoutField("reply_count", "integer", fast=True, indexed=True),
        LayoutField("title", "text", boost=3.0),
        LayoutField("excerpt", "text", boost=2.0),
        LayoutField("tags", "text", boost=1.5),
        LayoutField("category_name", "text", boost=1.2),
        LayoutField("author_name", "text", boost=1.0),
        LayoutField("body", "text", boost=1.0),
    ),
)

LAYOUTS: dict[DocType, IndexLayout] = {"product": PRODUCT_LAYOUT, "content": CONTENT_LAYOUT}

_BY_NAME: dict[str, dict[str, LayoutField]] = {}


def _by_name(layout: IndexLayout) -> dict[str, LayoutField]:
    fields = _BY_NAME.get(layout.doc_type)
    if fields is None:
        fields = _BY_NAME[layout.doc_type] = {f.name: f for f in layout.concrete_fields()}
    return fields


Fields = dict[str, list[FieldValue]]


def _put(out: Fields, name: str, value: FieldValue | None) -> None:
    """One value of a single-valued field, left out when absent or empty."""
    if value is not None and value != "":
        out[name] = [value]


def _put_all(out: Fields, name: str, values: Sequence[str]) -> None:
    """The values of a multi-valued field, empty ones left out."""
    kept: list[FieldValue] = [v for v in values if v]
    if kept:
        out[name] = kept


def _common(doc: ProductDocument | ContentDocument, doc_json: bytes | None) -> Fields:
    # Written out field by field rather than through a generic helper: a rebuild maps
    # every document once, and this is among its busiest code.
    out: Fields = {
        "id": [str(doc.id)], "tenant_id": [str(doc.tenant_id)], "root_key": [root_key(doc.tenant_id, doc.id)],
        "version": [doc.version],
    }
    _put(out, "locale", doc.locale)
    _put(out, "resolved_locale", doc.resolved_locale)
    _put(out, "status", doc.status)
    slugs = [slug for slug in doc.tag_slugs if slug]
    if slugs:
        out["tag_slugs"] = list[FieldValue](slugs)
        out["tag"] = [f"/{slug}" for slug in slugs]
    _put(out, "title_sort", (doc.title or "").lower())
    _put(out, "published_at", doc.published_at)
    _put(out, "created_at", doc.created_at)
    _put(out, "updated_at", doc.updated_at)
    out["doc_json"] = [doc_json if doc_json is not None else doc.model_dump_json().encode()]
    return out


def root_key(tenant_id: object, entity_id: object) -> str:
    """The ``root_key`` term of a root: ``<tenant_id>/<id>`` in canonical UUID text."""
    return f"{tenant_id}/{entity_id}"


def _product_fields(doc: ProductDocument, doc_json: bytes | None) -> Fields:
    out = _common(doc, doc_json)
    _put(out, "handle", doc.handle)
    _put_all(out, "category_handles", doc.category_handles)
    _put_all(out, "category", ["/" + "/".join(c.path_handles) for c in doc.categories if c.path_handles])
    _put_all(out, "skus", doc.skus)
    _put(out, "vendor_raw", doc.vendor)
    _put(out, "product_type", doc.product_type)
    _put_all(out, "option_values", [f"{name}={value}" for name, values in doc.options.items() for value in values])
    out["total_stock"] = [doc.total_stock]
    out["in_stock"] = [doc.in_stock]
    out["variant_count"] = [len(doc.variants)]
    currencies: list[FieldValue] = []
    for price in doc.prices:
        if price.currency in _CURRENCY_SET:
            currencies.append(price.currency)
            out[price_field("min", price.currency)] = [price.min]
            out[price_field("max", price.currency)] = [price.max]
    if currencies:
        out["currencies"] = currencies
    analyzer = analyzer_for_locale(doc.locale)
    _text(out, "title", analyzer, doc.title)
    _text(out, "subtitle", analyzer, doc.subtitle)
    _text_all(out, "tags", analyzer, doc.tags)
    _text_all(out, "category_names", analyzer, doc.category_names)
    _text(out, "vendor", analyzer, doc.vendor)
    _text(out, "description", analyzer, doc.description)
    return out


def _text(out: Fields, base: str, analyzer: Analyzer, value: str | None) -> None:
    _put(out, analysed_field(base, analyzer), value)


def _text_all(out: Fields, base: str, analyzer: Analyzer, values: Sequence[str]) -> None:
    _put_all(out, analysed_field(base, analyzer), values)


def _content_fields(doc: ContentDocument, doc_json: bytes | None) -> Fields:
    out = _common(doc, doc_json)
    _put(out, "kind", doc.kind)
    _put(out, "slug", doc.slug)
    if doc.category is not None:
        _put(out, "category_slug", doc.category.slug)
        _put(out, "category", f"/{doc.category.slug}")
    _put(out, "author_id", str(doc.author.id) if doc.author else None)
    _put(out, "parent_id", str(doc.parent_id) if doc.parent_id else None)
    _put(out, "reply_count", doc.reply_count)
    analyzer = analyzer_for_locale(doc.locale)
    _text(out, "title", analyzer, doc.title)
    _text(out, "excerpt", analyzer, doc.excerpt)
    _text_all(out, "tags", analyzer, doc.tags)
    _text(out, "category_name", analyzer, doc.category_name)
    _text(out, "author_name", analyzer, doc.author_name)
    _text(out, "body", analyzer, doc.body_text)
    return out


def document_fields(doc: ProductDocument | ContentDocument, doc_json: bytes | None = None) -> Fields:
    """``{field name: [values]}`` of one document under its layout; absent values are left out.

    ``doc_json``: the document's JSON when the caller has it already (``doc_json`` field).
    """
    if isinstance(doc, ProductDocument):
        return _product_fields(doc, doc_json)
    return _content_fields(doc, doc_json)
