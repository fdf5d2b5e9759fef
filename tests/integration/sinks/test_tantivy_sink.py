"""The Tantivy sink against real indexes in tmp_path."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
import tantivy

from contracts.documents import ContentDocument, ProductDocument
from contracts.ids import new_id
from contracts.search_index import LAYOUTS, PRODUCT_LAYOUT, analysed_field, analyzer_for_locale, price_field
from pipelines.model import DocType
from pipelines.sinks.errors import InvalidEmission, SinkBackpressure, SinkConfigError
from pipelines.sinks.tantivy_schema import open_index
from pipelines.sinks import tantivy_sink
from pipelines.sinks.tantivy_sink import TantivySink, index_path
from pipelines.sinks.tantivy_writer import WriterError

from .factory import content, emit, product, product_emission


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[TantivySink]:
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    sink.setup()
    yield sink
    sink.close()


def reader(root: Path, doc_type: DocType = "product") -> tantivy.Index:
    """An index handle opened separately from the sink's, as a search node would."""
    return open_index(LAYOUTS[doc_type], index_path(root, doc_type, 1))


def search(index: tantivy.Index, tenant: UUID, query: tantivy.Query | None = None, **kw: object) -> list[ProductDocument]:
    index.reload()
    scoped = tantivy.Query.term_query(index.schema, "tenant_id", str(tenant))
    full = scoped if query is None else tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, scoped), (tantivy.Occur.Must, query)])
    searcher = index.searcher()
    hits = searcher.search(full, 100, **kw).hits  # type: ignore[arg-type]
    return [ProductDocument.model_validate_json(searcher.doc(addr)["doc_json"][0]) for _, addr in hits]


def text(index: tantivy.Index, locale: str, words: str, base: str = "title") -> tantivy.Query:
    return index.parse_query(words, [analysed_field(base, analyzer_for_locale(locale))])


def term(index: tantivy.Index, field: str, value: object) -> tantivy.Query:
    return tantivy.Query.term_query(index.schema, field, value)


def flush(sink: TantivySink, *emissions: object) -> None:
    sink.write(list(emissions))  # type: ignore[arg-type]
    sink.flush()


def test_a_reader_opened_separately_sees_documents_after_flush_only(sink: TantivySink, tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    other = reader(tmp_path)
    sink.write([product_emission(tenant, pid, 1)])
    assert search(other, tenant) == []
    sink.flush()
    assert sorted(d.locale for d in search(other, tenant)) == ["de", "en", "ru"]


def test_a_reader_in_another_process_sees_the_commit(sink: TantivySink, tmp_path: Path) -> None:
    tenant = new_id()
    flush(sink, product_emission(tenant, new_id(), 1), product_emission(tenant, new_id(), 1))
    script = (
        "import sys; from pathlib import Path; import tantivy\n"
        "from contracts.search_index import PRODUCT_LAYOUT\n"
        "from pipelines.sinks.tantivy_schema import open_index\n"
        "i = open_index(PRODUCT_LAYOUT, Path(sys.argv[1]))\n"
        "q = tantivy.Query.term_query(i.schema, 'tenant_id', sys.argv[2])\n"
        "print(i.searcher().search(q, 10).count)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(index_path(tmp_path, "product", 1)), str(tenant)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3])
    assert out.stdout.strip() == "6"


@pytest.mark.parametrize(("locale", "title", "query"), [
    ("en", "Linen shirts", "shirt"),
    ("en", "A running shoe", "runs"),
    ("de", "Leinen Hemden", "Hemd"),
    ("de", "Kleine Häuser", "Haus"),
    ("ru", "Белая рубашка", "рубашки"),
    ("ru", "Льняные рубашки", "рубашка"),
])
def test_stemming_follows_the_documents_language(
    sink: TantivySink, tmp_path: Path, locale: str, title: str, query: str
) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, emit(tenant, pid, 1, product(tenant, pid, locale, title=title)))
    index = reader(tmp_path)
    assert [d.title for d in search(index, tenant, text(index, locale, query))] == [title]
    # The same word under another language's analyzer does not match: fields are per language.
    other = "simple"
    assert search(index, tenant, index.parse_query(query, [f"title__{other}"])) == []


def test_tenants_never_mix(sink: TantivySink, tmp_path: Path) -> None:
    t1, t2, pid = new_id(), new_id(), new_id()
    flush(sink, product_emission(t1, pid, 1, title="Alpha"), product_emission(t2, pid, 1, title="Beta"))
    index = reader(tmp_path)
    assert {d.title for d in search(index, t1)} == {"Alpha"}
    assert search(index, t1, text(index, "en", "beta")) == []
    # Removing the root in tenant 1 leaves tenant 2's documents with the same id.
    flush(sink, emit(t1, pid, 2, doc_type="product"))
    assert search(index, t1) == []
    assert len(search(index, t2)) == 3


def test_facets_filter_by_category_subtree_and_tag(sink: TantivySink, tmp_path: Path) -> None:
    tenant, shirt, shoe = new_id(), new_id(), new_id()
    flush(sink,
          product_emission(tenant, shirt, 1, locales=("en",), handle="shirt", title="Shirt",
                           categories=[["men", "shirts"]], tags=["linen", "summer"]),
          product_emission(tenant, shoe, 1, locales=("en",), handle="shoe", title="Shoe",
                           categories=[["men", "shoes"]], tags=["leather"]))
    index = reader(tmp_path)
    men = term(index, "category", tantivy.Facet.from_string("/men"))
    shirts = term(index, "category", tantivy.Facet.from_string("/men/shirts"))
    assert {d.title for d in search(index, tenant, men)} == {"Shirt", "Shoe"}
    assert [d.title for d in search(index, tenant, shirts)] == ["Shirt"]
    assert [d.title for d in search(index, tenant, term(index, "tag", tantivy.Facet.from_string("/leather")))] == ["Shoe"]
    counts = index.searcher().aggregate(term(index, "tenant_id", str(tenant)), {"t": {"terms": {"field": "tag_slugs"}}})
    assert {b["key"]: b["doc_count"] for b in counts["t"]["buckets"]} == {"linen": 1, "summer": 1, "leather": 1}


def test_price_range_and_sort_work_per_currency(sink: TantivySink, tmp_path: Path) -> None:
    tenant = new_id()
    prices = {"cheap": {"EUR": (500, 900), "USD": (9000, 9000)}, "mid": {"EUR": (1500, 2000)},
              "dear": {"EUR": (9000, 12000), "USD": (100, 100)}, "usd-only": {"USD": (50, 50)}}
    flush(sink, *(product_emission(tenant, new_id(), 1, locales=("en",), handle=h, title=h, prices=p)
                  for h, p in prices.items()))
    index = reader(tmp_path)
    eur_min = price_field("min", "EUR")
    in_range = tantivy.Query.range_query(index.schema, eur_min, tantivy.FieldType.Integer, 800, 2000)
    assert sorted(d.title for d in search(index, tenant, in_range)) == ["mid"]
    # Fast fields only (no term dictionary): an equal price is the range [p, p].
    equal = tantivy.Query.range_query(index.schema, eur_min, tantivy.FieldType.Integer, 1500, 1500)
    assert [d.title for d in search(index, tenant, equal)] == ["mid"]
    with pytest.raises(ValueError, match="not indexed"):
        search(index, tenant, tantivy.Query.term_query(index.schema, eur_min, 1500))
    has_eur = tantivy.Query.exists_query(eur_min)
    ascending = search(index, tenant, has_eur, order_by_field=eur_min, order=tantivy.Order.Asc)
    assert [d.title for d in ascending] == ["cheap", "mid", "dear"]
    usd_desc = search(index, tenant, tantivy.Query.exists_query(price_field("min", "USD")),
                      order_by_field=price_field("min", "USD"), order=tantivy.Order.Desc)
    assert [d.title for d in usd_desc] == ["cheap", "dear", "usd-only"]


def test_a_late_older_emission_is_ignored_even_after_reopening(tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    first = TantivySink(tmp_path, heap_size=20_000_000)
    flush(first, product_emission(tenant, pid, 20, title="Newer"))
    flush(first, product_emission(tenant, pid, 10, title="Older", locales=("en",)))
    first.close()
    again = TantivySink(tmp_path, heap_size=20_000_000)  # no memory of the first sink's writes
    flush(again, product_emission(tenant, pid, 15, title="Older"))
    assert again.stale_skipped == 1
    again.close()
    assert {(d.locale, d.title) for d in search(reader(tmp_path), tenant)} == {
        ("en", "Newer"), ("de", "Newer"), ("ru", "Newer")}


def test_an_empty_emission_removes_the_root_and_a_late_older_one_cannot_bring_it_back(tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    flush(sink, product_emission(tenant, pid, 5))
    flush(sink, emit(tenant, pid, 6, doc_type="product"))
    assert search(reader(tmp_path), tenant) == []
    sink.close()
    reopened = TantivySink(tmp_path, heap_size=20_000_000)
    flush(reopened, product_emission(tenant, pid, 5))
    reopened.close()
    assert search(reader(tmp_path), tenant) == []


def test_a_locale_no_longer_emitted_is_removed(sink: TantivySink, tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 1))
    flush(sink, product_emission(tenant, pid, 2, locales=("de",)))
    assert [(d.locale, d.version) for d in search(reader(tmp_path), tenant)] == [("de", 2)]


def test_a_killed_writer_process_fails_its_flush_and_the_next_flush_takes_a_new_one(tmp_path: Path) -> None:
    tenant = new_id()
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    try:
        flush(sink, product_emission(tenant, new_id(), 1, title="Committed"))
        assert sink._writer is not None
        sink._writer._process.kill()
        sink._writer._process.wait()
        with pytest.raises(SinkBackpressure, match="writer process ended"):
            flush(sink, product_emission(tenant, new_id(), 2, title="Lost"))
        assert {d.title for d in search(reader(tmp_path), tenant)} == {"Committed"}
        flush(sink, product_emission(tenant, new_id(), 3, title="Later"))
        assert {d.title for d in search(sink.index("product"), tenant)} == {"Committed", "Later"}
    finally:
        sink.close()


_DIES_AFTER_A_FLUSH = """
import os, signal, sys
from pathlib import Path
from uuid import UUID
from contracts.ids import new_id
from pipelines.sinks.tantivy_sink import TantivySink
from tests.integration.sinks.factory import product_emission
sink = TantivySink(Path(sys.argv[1]), heap_size=20_000_000)
tenant = UUID(sys.argv[2])
sink.write([product_emission(tenant, new_id(), 1, title="Committed")]); sink.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_when_the_sinks_process_dies_its_writer_process_ends_and_frees_the_index(tmp_path: Path) -> None:
    tenant = new_id()
    died = subprocess.run([sys.executable, "-c", _DIES_AFTER_A_FLUSH, str(tmp_path), str(tenant)], timeout=60)
    assert died.returncode == -9
    reopened = TantivySink(tmp_path, heap_size=20_000_000)
    try:
        reopened.setup()  # the dead sink's writer process let go of the lock
        assert {d.title for d in search(reopened.index("product"), tenant)} == {"Committed"}
    finally:
        reopened.close()


def test_a_second_writer_on_the_same_index_is_told_to_back_off(sink: TantivySink, tmp_path: Path) -> None:
    second = TantivySink(tmp_path, doc_types=("product",), heap_size=20_000_000)
    with pytest.raises(SinkBackpressure) as raised:
        second.setup()
    assert raised.value.retry_after > 0


def test_content_documents_are_searchable_by_kind_and_body(sink: TantivySink, tmp_path: Path) -> None:
    tenant, page, post = new_id(), new_id(), new_id()
    flush(sink, emit(tenant, page, 1, content(tenant, page, "de", title="Über uns", body="Wir nähen Hemden")),
          emit(tenant, post, 1, content(tenant, post, "de", slug="news", kind="post", title="Neuigkeiten", body="Neue Hosen")))
    index = reader(tmp_path, "content")
    index.reload()
    q = tantivy.Query.boolean_query([(tantivy.Occur.Must, term(index, "tenant_id", str(tenant))),
                                     (tantivy.Occur.Must, text(index, "de", "hemd", base="body")),
                                     (tantivy.Occur.Must, term(index, "kind", "page"))])
    searcher = index.searcher()
    hits = [ContentDocument.model_validate_json(searcher.doc(a)["doc_json"][0]).title for _, a in searcher.search(q, 10).hits]
    assert hits == ["Über uns"]


def test_a_bad_emission_is_refused_whole(sink: TantivySink, tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    with pytest.raises(InvalidEmission):
        sink.write([product_emission(tenant, pid, 1), emit(tenant, pid, 2, product(tenant, new_id(), version=2))])
    sink.flush()
    assert search(reader(tmp_path), tenant) == []


def test_an_index_written_under_another_layout_is_refused_with_the_way_out(tmp_path: Path) -> None:
    """Layout 1 indexed every price field; an index it wrote cannot be opened under layout 2."""
    indexed_prices = tuple(dataclasses.replace(f, indexed=True) if f.name.startswith("price_") else f
                           for f in PRODUCT_LAYOUT.fields)
    open_index(dataclasses.replace(PRODUCT_LAYOUT, fields=indexed_prices), index_path(tmp_path, "product", 1))
    stale = TantivySink(tmp_path, doc_types=("product",), heap_size=20_000_000)
    with pytest.raises(SinkConfigError, match="another layout.*rustok replay"):
        stale.setup()


def test_a_document_the_index_refuses_fails_its_whole_flush_and_the_next_flush_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The flush reaches the writer process in parts (one indexed while the next is made):
    # a refusal in a late part still takes back the parts before it.
    monkeypatch.setattr(tantivy_sink, "CHUNK_DOCUMENTS", 3)
    tenant, refused = new_id(), new_id()
    out_of_range = product(tenant, refused, "en", version=2).model_copy(update={"created_at": datetime(9000, 1, 1, tzinfo=UTC)})
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    try:
        sink.write([product_emission(tenant, new_id(), 1, title="First"), product_emission(tenant, new_id(), 1),
                    emit(tenant, refused, 2, out_of_range)])
        with pytest.raises(WriterError, match="created_at"):
            sink.flush()
        assert search(reader(tmp_path), tenant) == []
        flush(sink, product_emission(tenant, new_id(), 3, title="Later"))
        assert {d.title for d in search(reader(tmp_path), tenant)} == {"Later"}
    finally:
        sink.close()


def segments(root: Path) -> int:
    return reader(root).searcher().num_segments


def test_a_bulk_loads_flushes_become_visible_together_at_its_end_in_one_segment(tmp_path: Path) -> None:
    tenant = new_id()
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    try:
        flush(sink, product_emission(tenant, new_id(), 1, title="Before"))
        sink.begin_bulk()
        for n in range(3):
            flush(sink, *(product_emission(tenant, new_id(), 2, title=f"Bulk {n}") for _ in range(4)))
            assert {d.title for d in search(reader(tmp_path), tenant)} == {"Before"}
        sink.end_bulk(completed=True)
        assert len(search(reader(tmp_path), tenant)) == 3 * (1 + 3 * 4)
        assert segments(tmp_path) == 2  # the flush before, and the bulk's three flushes as one
        flush(sink, product_emission(tenant, new_id(), 3, title="After"))
        assert "After" in {d.title for d in search(reader(tmp_path), tenant)}
    finally:
        sink.close()


def test_a_failed_bulk_drops_its_flushes_and_the_next_flush_goes_on(tmp_path: Path) -> None:
    tenant, pid = new_id(), new_id()
    sink = TantivySink(tmp_path, heap_size=20_000_000)
    try:
        flush(sink, product_emission(tenant, pid, 1, title="Kept"))
        sink.begin_bulk()
        flush(sink, product_emission(tenant, pid, 2, title="Dropped"), product_emission(tenant, new_id(), 2))
        sink.end_bulk(completed=False)
        assert {d.title for d in search(reader(tmp_path), tenant)} == {"Kept"}
        # What the bulk wrote is forgotten: version 1 is still what the index holds for the root.
        flush(sink, product_emission(tenant, pid, 1, title="Kept again"))
        assert {d.title for d in search(reader(tmp_path), tenant)} == {"Kept again"}
    finally:
        sink.close()
