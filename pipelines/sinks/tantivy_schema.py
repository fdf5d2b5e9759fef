"""Tantivy schema, analyzers and documents built from ``contracts.search_index``.

The layout is data in contracts; this module is the only place that turns it into
tantivy objects. The search API does the same registration on its side from the same
data (``register_analyzers`` only reads ``contracts.search_index.ANALYZERS``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

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


Adder = Callable[[tantivy.Document, str, FieldValue], None]


def _add_date(doc: tantivy.Document, name: str, value: FieldValue) -> None:
    assert isinstance(value, datetime)
    doc.add_date(name, _utc(value))


_ADDERS: dict[FieldKind, Adder] = {
    "facet": lambda doc, name, value: doc.add_facet(name, tantivy.Facet.from_string(str(value))),
    "raw": lambda doc, name, value: doc.add_text(name, str(value)),
    "text": lambda doc, name, value: doc.add_text(name, str(value)),
    "integer": lambda doc, name, value: doc.add_integer(name, int(value)),  # type: ignore[arg-type]
    "bool": lambda doc, name, value: doc.add_boolean(name, bool(value)),
    "date": _add_date,
    "bytes": lambda doc, name, value: doc.add_bytes(name, value if isinstance(value, bytes) else str(value).encode()),
    "float": lambda doc, name, value: doc.add_float(name, float(value)),  # type: ignore[arg-type]
    "json": lambda doc, name, value: doc.add_json(name, value),
}
# Field name → adder, per document type: resolved once, not per value.
_FIELD_ADDERS: dict[str, dict[str, Adder]] = {}


def _field_adders(layout: IndexLayout) -> dict[str, Adder]:
    adders = _FIELD_ADDERS.get(layout.doc_type)
    if adders is None:
        adders = _FIELD_ADDERS[layout.doc_type] = {
            f.name: _ADDERS[f.kind] for f in layout.concrete_fields()
        }
    return adders


def to_tantivy(layout: IndexLayout, fields: dict[str, list[FieldValue]]) -> tantivy.Document:
    """A tantivy Document from ``contracts.search_index.document_fields`` output."""
    doc = tantivy.Document()
    adders = _field_adders(layout)
    for name, values in fields.items():
        add = adders.get(name) or _ADDERS[layout.kind_of(name)]
        for value in values:
            add(doc, name, value)
    return doc
