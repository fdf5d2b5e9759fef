"""The JSONB read-table sink against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
import psycopg
import pytest

from contracts.ids import new_id
from pipelines.sinks.errors import InvalidEmission, SinkBackpressure, SinkConfigError
from pipelines.sinks.postgres import CLEAN_PENDING_ROWS, PostgresSink, drop_index_version, live_version, switch_alias

from .factory import NOW, content, emit, product, product_emission


@pytest.fixture
def sink(database_url: str) -> Iterator[PostgresSink]:
    sink = PostgresSink(database_url)
    sink.setup()
    yield sink
    sink.close()


@pytest.fixture
def content_sink(database_url: str) -> Iterator[PostgresSink]:
    sink = PostgresSink(database_url, doc_types=("content",))
    sink.setup()
    yield sink
    sink.close()


def rows(url: str, table: str = "index_products", version: int = 1) -> list[tuple[object, ...]]:
    id_col, key_col = ("product_id", "handle") if table == "index_products" else ("node_id", "slug")
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT tenant_id, {id_col}, locale, {key_col}, source_lsn, document->>'title' FROM {table} "
            "WHERE index_version = %s ORDER BY tenant_id, locale, " + key_col, (version,)
        ).fetchall()


def flush(sink: PostgresSink, *emissions: object) -> None:
    sink.write(list(emissions))  # type: ignore[arg-type]
    sink.flush()


def test_an_emission_writes_one_row_per_locale_searchable_in_its_language(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 42))
    with psycopg.connect(database_url) as conn:
        got = conn.execute(
            "SELECT locale, ts_config::text, source_lsn, source_committed_at, document->>'handle' FROM index_products "
            "ORDER BY locale").fetchall()
        assert got == [("de", "german", 42, NOW, "linen-shirt"), ("en", "english", 42, NOW, "linen-shirt"),
                       ("ru", "russian", 42, NOW, "linen-shirt")]
        # Stemming in the row's own language: the query words differ in form from the titles.
        for locale, config, word in (("de", "german", "Hemd"), ("en", "english", "shirt"), ("ru", "russian", "рубашка")):
            hit = conn.execute("SELECT locale FROM index_products WHERE search_vector @@ plainto_tsquery(%s::regconfig, %s)",
                               (config, word)).fetchall()
            assert hit == [(locale,)], (config, word)


def test_a_late_older_emission_never_overwrites_a_newer_document(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 20, title="New title"))
    flush(sink, product_emission(tenant, pid, 10, locales=("en", "de", "ru", "fr"), title="Old title"))
    got = rows(database_url)
    assert {(r[2], r[4], r[5]) for r in got} == {(loc, 20, "New title") for loc in ("en", "de", "ru")}
    assert sink.last_flush.stale_roots == 1


def test_a_replayed_emission_of_the_same_version_is_applied_idempotently(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 20))
    before = rows(database_url)
    flush(sink, product_emission(tenant, pid, 20))
    assert rows(database_url) == before


def test_a_locale_no_longer_emitted_is_removed(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 1))
    flush(sink, product_emission(tenant, pid, 2, locales=("en",)))
    assert [(r[2], r[4]) for r in rows(database_url)] == [("en", 2)]


def test_an_empty_emission_removes_the_root_but_an_older_one_does_not(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 5))
    flush(sink, emit(tenant, pid, 4, doc_type="product"))
    assert len(rows(database_url)) == 3
    flush(sink, emit(tenant, pid, 6, doc_type="product"))
    assert rows(database_url) == []


def test_emissions_of_a_root_in_one_batch_collapse_to_the_newest(sink: PostgresSink, database_url: str) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 3, title="Third"), product_emission(tenant, pid, 1, title="First"),
          product_emission(tenant, pid, 3, locales=("en",), title="Third again"))
    assert [(r[2], r[4], r[5]) for r in rows(database_url)] == [("en", 3, "Third again")]
    assert sink.last_flush.roots == 1


@pytest.mark.parametrize("taker_first", [True, False])
def test_a_product_takes_the_handle_another_gave_up_in_the_same_batch(
    sink: PostgresSink, database_url: str, taker_first: bool
) -> None:
    tenant, a, b = new_id(), new_id(), new_id()
    flush(sink, product_emission(tenant, b, 1, handle="shirt"), product_emission(tenant, a, 1, handle="shirt-a"))
    give_up = product_emission(tenant, b, 2, handle="shirt-old")
    take = product_emission(tenant, a, 3, handle="shirt")
    flush(sink, *((take, give_up) if taker_first else (give_up, take)))
    assert {(r[1], r[2], r[3]) for r in rows(database_url)} == (
        {(a, loc, "shirt") for loc in ("en", "de", "ru")} | {(b, loc, "shirt-old") for loc in ("en", "de", "ru")})


def test_handles_swapped_between_two_products_in_one_batch(sink: PostgresSink, database_url: str) -> None:
    tenant, a, b = new_id(), new_id(), new_id()
    flush(sink, product_emission(tenant, a, 1, handle="x"), product_emission(tenant, b, 1, handle="y"))
    flush(sink, product_emission(tenant, a, 2, handle="y"), product_emission(tenant, b, 2, handle="x"))
    assert {(r[1], r[3]) for r in rows(database_url)} == {(a, "y"), (b, "x")}


def test_a_stale_row_holding_a_claimed_handle_is_evicted_and_never_wedges_the_sink(
    sink: PostgresSink, database_url: str
) -> None:
    tenant, a, b = new_id(), new_id(), new_id()
    flush(sink, product_emission(tenant, b, 5, handle="shirt"))
    # B's rename never arrived (yet); A's newer claim on the handle must not fail the flush.
    flush(sink, product_emission(tenant, a, 10, handle="shirt"))
    assert {(r[1], r[3], r[4]) for r in rows(database_url)} == {(a, "shirt", 10)}
    assert sink.last_flush.rows_evicted == 3
    flush(sink, product_emission(tenant, b, 6, handle="shirt-b"))
    assert {(r[1], r[3]) for r in rows(database_url)} == {(a, "shirt"), (b, "shirt-b")}


def test_an_older_claim_on_a_handle_held_by_a_newer_row_is_skipped_not_failed(
    sink: PostgresSink, database_url: str
) -> None:
    tenant, a, b = new_id(), new_id(), new_id()
    flush(sink, product_emission(tenant, b, 20, handle="shirt", locales=("en",)))
    flush(sink, product_emission(tenant, a, 10, handle="shirt"))
    assert {(r[1], r[2]) for r in rows(database_url)} == {(b, "en"), (a, "de"), (a, "ru")}
    assert sink.last_flush.claims_skipped == 1


def test_tenants_never_mix(sink: PostgresSink, database_url: str) -> None:
    t1, t2, pid = new_id(), new_id(), new_id()
    # Same entity id and handle in two tenants: separate rows; deleting one leaves the other.
    flush(sink, product_emission(t1, pid, 1), product_emission(t2, pid, 1))
    assert len(rows(database_url)) == 6
    flush(sink, emit(t1, pid, 2, doc_type="product"))
    assert {r[0] for r in rows(database_url)} == {t2}
    # A newer row in tenant 2 does not make tenant 1's older emission stale.
    flush(sink, product_emission(t2, pid, 50), product_emission(t1, pid, 3))
    assert {(r[0], r[4]) for r in rows(database_url)} == {(t1, 3), (t2, 50)}


def test_a_bad_emission_raises_and_writes_nothing(sink: PostgresSink, database_url: str) -> None:
    tenant, other, pid = new_id(), new_id(), new_id()
    good = product_emission(tenant, pid, 1)
    bad = emit(tenant, pid, 1, product(other, pid, "en"))
    with pytest.raises(InvalidEmission):
        sink.write([good, bad])
    with pytest.raises(InvalidEmission):
        sink.write([emit(tenant, pid, 1, product(tenant, pid, "en"), product(tenant, pid, "en"))])
    sink.flush()
    assert rows(database_url) == []


def test_content_rows_carry_kind_and_slug_and_swap_slugs(content_sink: PostgresSink, database_url: str) -> None:
    sink = content_sink
    tenant, a, b, c = new_id(), new_id(), new_id(), new_id()
    flush(sink, emit(tenant, a, 1, content(tenant, a, slug="about")), emit(tenant, b, 1, content(tenant, b, slug="team")),
          emit(tenant, c, 1, content(tenant, c, slug=None, kind="topic")),
          product_emission(tenant, new_id(), 1))  # another doc type: ignored by this sink
    flush(sink, emit(tenant, a, 2, content(tenant, a, slug="team", version=2)),
          emit(tenant, b, 2, content(tenant, b, slug="about", version=2)))
    assert {(r[1], r[3]) for r in rows(database_url, "index_content")} == {(a, "team"), (b, "about"), (c, None)}
    assert rows(database_url) == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT kind, published_at FROM index_content WHERE node_id = %s", (c,)).fetchone() == (
            "topic", NOW)


def test_a_rebuild_writes_a_new_version_beside_the_live_one_until_the_alias_switches(
    sink: PostgresSink, database_url: str
) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 1, title="Live"))
    rebuild = PostgresSink(database_url, doc_types=("product",), index_version=2)
    rebuild.setup()
    flush(rebuild, product_emission(tenant, pid, 1, title="Rebuilt"))
    rebuild.close()
    assert {r[5] for r in rows(database_url, version=1)} == {"Live"}
    assert {r[5] for r in rows(database_url, version=2)} == {"Rebuilt"}
    assert switch_alias(database_url, "product", 2) == 1
    assert live_version(database_url, "product") == 2
    with pytest.raises(SinkConfigError):
        drop_index_version(database_url, "product", 2)
    assert drop_index_version(database_url, "product", 1) == 3
    # A sink set up after the switch writes the new live version.
    after = PostgresSink(database_url, doc_types=("product",))
    after.setup()
    assert after.index_versions == {"product": 2}
    after.close()


def test_a_lost_connection_is_backpressure_and_the_retry_writes_everything(
    sink: PostgresSink, database_url: str, admin_url: str
) -> None:
    tenant, pid = new_id(), new_id()
    flush(sink, product_emission(tenant, pid, 1))
    db = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                      (db,))
    sink.write([product_emission(tenant, pid, 2, title="After")])
    with pytest.raises(SinkBackpressure) as raised:
        sink.flush()
    assert raised.value.retry_after > 0
    sink.flush()  # the buffer was cleared: nothing half-kept
    assert {r[5] for r in rows(database_url)} == {"Linen shirts", "Leinen Hemden", "Льняные рубашки"}
    flush(sink, product_emission(tenant, pid, 2, title="After"))
    assert {r[5] for r in rows(database_url)} == {"After"}


def test_a_sink_refuses_unknown_doc_types_and_versions(database_url: str) -> None:
    with pytest.raises(SinkConfigError):
        PostgresSink(database_url, doc_types=("order",))  # type: ignore[arg-type]
    with pytest.raises(SinkConfigError):
        PostgresSink(database_url, index_version=0)



def test_flushes_after_a_bulk_load_that_reanalyses_the_table_stay_visible(sink: PostgresSink, database_url: str) -> None:
    tenant = new_id()
    ids = [new_id() for _ in range(800)]
    flush(sink, *(product_emission(tenant, pid, 1, handle=f"p-{i}") for i, pid in enumerate(ids)))
    flush(sink, product_emission(tenant, ids[0], 2, handle="p-1"), product_emission(tenant, ids[1], 2, handle="p-0"))
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM index_products").fetchone() == (2400,)
        assert conn.execute("SELECT handle FROM index_products WHERE product_id = %s AND locale = 'en'",
                            (ids[0],)).fetchone() == ("p-1",)


def _analyses(database_url: str) -> int:
    """Manual ANALYZEs of index_products so far (autovacuum's are counted apart)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'index_products'").fetchone()
    assert row is not None
    return int(row[0])


def test_a_read_table_that_grew_is_reanalysed_and_rewriting_its_rows_never_stalls_a_flush_for_it(
        database_url: str) -> None:
    """A bulk load needs fresh statistics (the probes by handle depend on the table's size);
    a steady stream of updates leaves the size alone and must not pay a table ANALYZE,
    which took 0.5-1.2 s of a flush at 35k rows."""
    tenant = new_id()
    ids = [new_id() for _ in range(800)]
    sink = PostgresSink(database_url)
    flush(sink, *(product_emission(tenant, pid, 1, handle=f"p-{i}") for i, pid in enumerate(ids)))
    sink.close()  # waits for the ANALYZE running beside the flushes
    assert _analyses(database_url) == 1
    sink = PostgresSink(database_url)
    for version in (2, 3, 4):  # 7,200 rows rewritten, the table's size unchanged
        flush(sink, *(product_emission(tenant, pid, version, handle=f"p-{i}") for i, pid in enumerate(ids)))
    sink.close()
    assert _analyses(database_url) == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*), min(source_lsn) FROM index_products").fetchone() == (2400, 4)


def _clean_pending(database_url: str) -> dict[str, int]:
    """Clean index_products' GIN pending lists now; returns how many pages each held."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return {name: int(conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (name,)).fetchone()[0])  # type: ignore[index]
                for name in ("ix_index_products_search", "ix_index_products_document")}


def test_a_steady_stream_of_small_flushes_has_its_gin_pending_lists_cleaned_beside_it(database_url: str) -> None:
    """Left to PostgreSQL, the pending lists grow until one INSERT (a flush) merges 4 MB of
    them into the index; the sink cleans them on its own connection instead."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE index_products SET (autovacuum_enabled = false)")  # vacuum cleans them too
    tenant = new_id()
    ids = [new_id() for _ in range(CLEAN_PENDING_ROWS // 2)]
    sink = PostgresSink(database_url)
    for start in range(0, len(ids), 25):  # flushes of 25 roots in 2 locales: the last one reaches the threshold
        flush(sink, *(product_emission(tenant, pid, 1, ("en", "de"), handle=f"p-{start + i}")
                      for i, pid in enumerate(ids[start:start + 25])))
    sink.close()  # waits for the cleanup under way
    assert _clean_pending(database_url) == {"ix_index_products_search": 0, "ix_index_products_document": 0}
    sink = PostgresSink(database_url)
    flush(sink, *(product_emission(tenant, pid, 2, ("en", "de"), handle=f"p-{i}") for i, pid in enumerate(ids[:25])))
    sink.close()
    assert all(pages > 0 for pages in _clean_pending(database_url).values())  # below the threshold: left pending
    assert [r[4] for r in rows(database_url) if r[1] == ids[0]] == [2, 2]


def test_a_bulk_flush_leaves_its_pending_lists_to_postgresql(database_url: str) -> None:
    """A rebuild's flush of thousands of rows gains nothing from a cleanup beside it: its own
    INSERT merges the lists in bulk when they outgrow the limit."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE index_products SET (autovacuum_enabled = false)")
    tenant = new_id()
    sink = PostgresSink(database_url)
    flush(sink, *(product_emission(tenant, new_id(), 1, ("en", "de"), handle=f"p-{i}")
                  for i in range(CLEAN_PENDING_ROWS // 2 + 10)))
    sink.close()
    assert all(pages > 0 for pages in _clean_pending(database_url).values())


def test_a_small_flush_probes_its_roots_rows_by_primary_key_never_scanning_the_table(
        sink: PostgresSink, database_url: str) -> None:
    """A steady trickle of writes (freshness) flushes a few roots at a time: finding their
    current rows must cost a probe each, not a pass over a read table that grows with the
    catalogue (the planner knows nothing of the temporary tables' sizes)."""
    from pipelines.sinks import postgres as sink_sql

    tenants = [new_id(), new_id()]
    ids = [new_id() for _ in range(1500)]
    flush(sink, *(product_emission(tenants[i % 2], pid, 1, handle=f"p-{i}") for i, pid in enumerate(ids)))
    sink.close()  # lets the load's ANALYZE finish (it runs beside the flushes); the sink reconnects
    batch = [product_emission(tenants[i % 2], pid, 2, handle=f"p-{i}") for i, pid in enumerate(ids[:5])]
    table = sink_sql._TABLES["product"]
    conn = sink._connection()
    with conn.transaction():
        sink_sql._copy_in(conn, table, batch)
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN (ANALYZE, COSTS OFF) " + sink_sql._sql(sink_sql._LOCK_EXISTING, table), {"v": 1}).fetchall())
        assert conn.execute("SELECT count(*) FROM _sink_existing_product").fetchone() == (15,)
    assert "Seq Scan on index_products" not in plan, plan
    probe = [line for line in plan.splitlines() if "index_products_pkey" in line]
    assert probe, plan
    assert "locale" in plan.split(probe[0])[1].splitlines()[1], plan  # the probe's condition names the locale
    flush(sink, *batch)
    assert [r[4] for r in rows(database_url) if r[1] == ids[0]] == [2, 2, 2]


def test_a_document_of_a_few_kilobytes_is_stored_inline_without_compression(sink: PostgresSink, database_url: str) -> None:
    # Compressed, every write of a document paid pglz and every read of it (the stored
    # tsvector's six lookups included) decompressed it again (migration 0014).
    tenant, pid = new_id(), new_id()
    description = " ".join(f"Linen shirt number {n} washes well and keeps its shape." for n in range(60))
    flush(sink, product_emission(tenant, pid, 7, locales=("en",), description=description))
    with psycopg.connect(database_url) as conn:
        stored, raw = conn.execute(
            "SELECT pg_column_size(document), octet_length(document::text) FROM index_products").fetchone()  # type: ignore[misc]
    assert raw > 3000
    assert stored >= raw  # jsonb is no smaller than its text; pglz would have halved this repetitive text


def _table_rows(url: str, version: int) -> list[tuple[object, ...]]:
    """Every column of both read tables but ``indexed_at`` (the write's own time), of one version."""
    with psycopg.connect(url) as conn:
        products = conn.execute(
            "SELECT tenant_id, locale, product_id, handle, status, ts_config::text, document, search_vector::text,"
            " source_lsn, source_committed_at FROM index_products WHERE index_version = %s ORDER BY 1, 2, 3",
            (version,)).fetchall()
        contents = conn.execute(
            "SELECT tenant_id, locale, node_id, kind, slug, status, ts_config::text, document, search_vector::text,"
            " published_at, source_lsn, source_committed_at FROM index_content WHERE index_version = %s"
            " ORDER BY 1, 2, 3", (version,)).fetchall()
    return products + contents


def _bulk_emissions(tenant: object) -> list[object]:
    nodes = [new_id(), new_id()]
    return [
        *(product_emission(tenant, new_id(), 10 + n, handle=f"shirt-{n}", tags=["linen"]) for n in range(5)),  # type: ignore[arg-type]
        emit(tenant, nodes[0], 20, content(tenant, nodes[0], "en", version=20, slug="about"),  # type: ignore[arg-type]
             content(tenant, nodes[0], "de", version=20, slug="uber-uns")),  # type: ignore[arg-type]
        emit(tenant, nodes[1], 21, content(tenant, nodes[1], "en", version=21, slug=None, kind="post")),  # type: ignore[arg-type]
    ]


def test_a_bulk_load_into_an_empty_version_writes_what_the_checked_way_writes(database_url: str) -> None:
    tenant = new_id()
    emissions = _bulk_emissions(tenant)
    checked = PostgresSink(database_url, index_version=3)
    bulk = PostgresSink(database_url, index_version=4)
    try:
        flush(checked, *emissions)
        bulk.begin_bulk()
        flush(bulk, *emissions[:3])
        flush(bulk, *emissions[3:])
        bulk.end_bulk(completed=True)
    finally:
        checked.close()
        bulk.close()
    assert len(_table_rows(database_url, 3)) == 5 * 3 + 3
    assert _table_rows(database_url, 4) == _table_rows(database_url, 3)


def test_a_bulk_load_with_two_roots_claiming_one_handle_keeps_the_newer_claim(database_url: str) -> None:
    tenant, older, newer = new_id(), new_id(), new_id()
    sink = PostgresSink(database_url, index_version=5)
    try:
        sink.begin_bulk()
        flush(sink, product_emission(tenant, older, 30, locales=("de",), handle="shirt"),
              product_emission(tenant, newer, 31, locales=("de",), handle="shirt"))
        sink.end_bulk(completed=True)
    finally:
        sink.close()
    assert [(r[1], r[3]) for r in rows(database_url, version=5)] == [(newer, "shirt")]


def test_a_bulk_load_into_a_version_holding_rows_replaces_them(database_url: str) -> None:
    # A snapshot started again after a crash finds the earlier attempt's rows: a root whose
    # locales changed must not keep its old ones beside the new.
    tenant, pid = new_id(), new_id()
    sink = PostgresSink(database_url, index_version=6)
    try:
        flush(sink, product_emission(tenant, pid, 40))
        sink.begin_bulk()
        flush(sink, product_emission(tenant, pid, 41, locales=("fr",)))
        sink.end_bulk(completed=True)
    finally:
        sink.close()
    assert [(r[2], r[4]) for r in rows(database_url, version=6)] == [("fr", 41)]
