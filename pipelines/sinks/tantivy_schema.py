"""Tantivy schema, analyzers and documents built from ``contracts.search_index``.

The layout is data in contracts; this module is the only place that turns it into
tantivy objects. The search API does the same registration on its side from the same
data (``register_analyzers`` only reads ``contracts.search_index.ANALYZERS``).
"""

from __future__ import annotations

from base64 import b64encode
from pathlib import Path

import orjson
import tantivy

from contracts.search_index import ANALYZERS, Analyzer, FieldValue, IndexLayout, LayoutField


def build_analyzer(analyzer: Analyzer) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(analyzer.remove_long))
        .filter(tantivy.Filter.lowercase())
    )
    if analyzer.stemmer is not None:
        builder = builder.filter(tantivy.Filter.stemmer(analyzer.stemmer))
    return builder.build()


def register_analyzers(index: tantivy.Index) -> None:
    """Register every layout analyzer on ``index`` (needed on each open, in every process)."""
    for analyzer in ANALYZERS:
        index.register_tokenizer(analyzer.tokenizer, build_analyzer(analyzer))


def _tokenizer_of(field_name: str) -> str:
    language = field_name.rsplit("__", 1)[1]
    return f"rustok_{language}"


def _add_field(builder: tantivy.SchemaBuilder, f: LayoutField) -> None:
    if f.kind == "raw":
        builder.add_text_field(f.name, stored=f.stored, fast=f.fast, tokenizer_name="raw", index_option="basic")
    elif f.kind == "text":
        builder.add_text_field(f.name, stored=f.stored, tokenizer_name=_tokenizer_of(f.name), index_option="position")
    elif f.kind == "integer":
        builder.add_integer_field(f.name, stored=f.stored, indexed=f.indexed, fast=f.fast)
    elif f.kind == "float":
        builder.add_float_field(f.name, stored=f.stored, indexed=f.indexed, fast=f.fast)
    elif f.kind == "date":
        builder.add_date_field(f.name, stored=f.stored, indexed=f.indexed, fast=f.fast)
    elif f.kind == "bool":
        builder.add_boolean_field(f.name, stored=f.stored, indexed=f.indexed, fast=f.fast)
    elif f.kind == "facet":
        builder.add_facet_field(f.name)
    elif f.kind == "json":
        builder.add_json_field(f.name, stored=f.stored, fast=f.fast)
    else:  # bytes
        builder.add_bytes_field(f.name, stored=f.stored, indexed=f.indexed, fast=f.fast)


def build_schema(layout: IndexLayout) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for f in layout.concrete_fields():
        _add_field(builder, f)
    return builder.build()


def open_index(layout: IndexLayout, path: Path) -> tantivy.Index:
    """Open (or create) the index of ``layout`` in ``path`` with its analyzers registered."""
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(build_schema(layout), path=str(path), reuse=True)
    register_analyzers(index)
    return index


# Values pass to tantivy as one JSON object per document (``IndexWriter.add_json``): the
# schema-driven parse runs in Rust, a third less time per document than building a
# ``tantivy.Document`` value by value. Dates go as RFC 3339 (a naive one is UTC), bytes as
# base64; facets, text, numbers and booleans as themselves.
_JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
_BYTES_FIELDS: dict[str, frozenset[str]] = {}


def _bytes_fields(layout: IndexLayout) -> frozenset[str]:
    names = _BYTES_FIELDS.get(layout.doc_type)
    if names is None:
        names = _BYTES_FIELDS[layout.doc_type] = frozenset(f.name for f in layout.concrete_fields() if f.kind == "bytes")
    return names


def to_tantivy_json(layout: IndexLayout, fields: dict[str, list[FieldValue]]) -> str:
    """The JSON document ``IndexWriter.add_json`` takes, from ``contracts.search_index.document_fields`` output."""
    encoded = {name: [b64encode(v if isinstance(v, bytes) else str(v).encode()).decode() for v in fields[name]]
               for name in _bytes_fields(layout).intersection(fields)}
    return orjson.dumps({**fields, **encoded} if encoded else fields, option=_JSON_OPTIONS).decode()
