"""Tantivy schema, analyzers and documents built from ``contracts.search_index``.

The layout is data in contracts; this module is the only place that turns it into
tantivy objects. The search API does the same registration on its side from the same
data (``register_analyzers`` only reads ``contracts.search_index.ANALYZERS``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tantivy

from contracts.search_index import ANALYZERS, Analyzer, FieldKind, FieldValue, IndexLayout, LayoutField


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


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


Convert = Callable[[FieldValue], object]

# What ``Document.from_dict`` cannot take as ``document_fields`` gives it, per field kind:
# facet paths as text, dates in any zone (tantivy stores UTC), bytes given as text.
_CONVERT: dict[FieldKind, Convert] = {
    "facet": lambda value: tantivy.Facet.from_string(str(value)),
    "date": lambda value: _utc(value) if isinstance(value, datetime) else value,
    "bytes": lambda value: value if isinstance(value, bytes) else str(value).encode(),
}
# Per document type, resolved once: its schema, and the fields whose values need converting.
_SCHEMAS: dict[str, tantivy.Schema] = {}
_CONVERSIONS: dict[str, dict[str, Convert]] = {}


def _conversions(layout: IndexLayout) -> dict[str, Convert]:
    conversions = _CONVERSIONS.get(layout.doc_type)
    if conversions is None:
        conversions = _CONVERSIONS[layout.doc_type] = {
            f.name: _CONVERT[f.kind] for f in layout.concrete_fields() if f.kind in _CONVERT
        }
    return conversions


def _schema(layout: IndexLayout) -> tantivy.Schema:
    schema = _SCHEMAS.get(layout.doc_type)
    if schema is None:
        schema = _SCHEMAS[layout.doc_type] = build_schema(layout)
    return schema


def to_tantivy(layout: IndexLayout, fields: dict[str, list[FieldValue]]) -> tantivy.Document:
    """A tantivy Document from ``contracts.search_index.document_fields`` output.

    One ``Document.from_dict`` call typed by the layout's schema: a value-by-value
    ``add_*`` call each cost a rebuild more than the rest of the mapping.
    """
    typed: dict[str, list[Any]] = {**fields}
    for name, convert in _conversions(layout).items():
        values = fields.get(name)
        if values:
            typed[name] = [convert(value) for value in values]
    return tantivy.Document.from_dict(typed, _schema(layout))
