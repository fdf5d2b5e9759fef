"""Reconciliation: clean on the pipeline's real output, finds injected drift, and --repair clears it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from uuid import UUID

import psycopg

from contracts.documents import ProductDocument
from contracts.ids import new_id
from pipelines.model import RootDocuments, RootKey
from pipelines.sinks.postgres import live_version
from pipelines.sinks.tantivy_sink import TantivySink
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.reconcile import DocKey, reconcile, reconcile_tantivy, repair, union

TENANT = str(demo.TENANT_ID)
LINEN = str(demo.demo_id("product", "linen-shirt"))
MUG = str(demo.demo_id("product", "ceramic-mug"))
OTHER_TENANT = str(demo.demo_id("tenant", "other"))
LIVE = "index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = 'product')"
COLUMNS = "index_version, tenant_id, locale, product_id, handle, status, ts_config, document, source_lsn"


def inject_drift(url: str, ghost: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM index_products WHERE {LIVE} AND product_id = %s AND locale = 'de'", (LINEN,))
        conn.execute(f"UPDATE index_products SET document = jsonb_set(jsonb_set(document, '{{title}}', '\"Wrong\"'),"
                     " '{total_stock}', to_jsonb((document->>'total_stock')::int + 1))"
                     f" WHERE {LIVE} AND product_id = %s AND locale = 'en'", (MUG,))
        conn.execute(f"INSERT INTO index_products ({COLUMNS}) SELECT index_version, tenant_id, locale, %s,"
                     f" 'ghost', status, ts_config, jsonb_set(document, '{{id}}', to_jsonb(%s::text)), source_lsn"
                     f" FROM index_products WHERE {LIVE} AND product_id = %s AND locale = 'ru'", (ghost, ghost, MUG))
        conn.execute("INSERT INTO tenants (id, slug, name, default_locale) VALUES (%s, 'other', 'Other', 'en')",
                     (OTHER_TENANT,))
        conn.execute(f"INSERT INTO index_products ({COLUMNS}) SELECT index_version, %s, locale, product_id, handle,"
                     f" status, ts_config, document, source_lsn FROM index_products"
                     f" WHERE {LIVE} AND product_id = %s AND locale = 'en'", (OTHER_TENANT, LINEN))


def test_the_pipelines_real_output_has_no_drift(pipeline_db: str) -> None:
    drift = reconcile(pipeline_db)
    assert drift.clean, drift.as_dict()
    assert sum(expected for expected, _ in drift.counts.values()) > 30


def test_reconcile_finds_injected_drift_and_repair_clears_it_through_the_pipeline(
    pipeline_db: str, tmp_path: Path
) -> None:
    options = PipelineOptions(database_url=pipeline_db, state_dir=tmp_path / "pipeline")
    ghost = str(new_id())
    try:
        with EmbeddedPipeline(options):
            inject_drift(pipeline_db, ghost)
            drift = reconcile(pipeline_db)
            assert drift.missing == [DocKey("product", TENANT, "de", LINEN)]
            assert drift.differing == {DocKey("product", TENANT, "en", MUG): ["title", "total_stock"]}
            assert sorted(drift.extra) == sorted([DocKey("product", TENANT, "ru", ghost),
                                                  DocKey("product", OTHER_TENANT, "en", LINEN)])
            assert drift.counts[("product", TENANT, "de")][0] == drift.counts[("product", TENANT, "de")][1] + 1

            result = repair(pipeline_db, drift, options.index_dir, lock_timeout=0.5)
            assert {str(r.id) for r in result.reemitted} == {LINEN, MUG}
            assert {(str(r.tenant_id), str(r.id)) for r in result.removed} == {(TENANT, ghost), (OTHER_TENANT, LINEN)}
            deadline = time.monotonic() + 30
            while not (drift := reconcile(pipeline_db)).clean and time.monotonic() < deadline:
                time.sleep(0.2)
            assert drift.clean, drift.as_dict()
            assert reconcile(pipeline_db, demo.TENANT_ID).clean
    finally:
        with psycopg.connect(pipeline_db, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def test_the_live_tantivy_index_has_no_drift(pipeline_db: str, pipeline_template: tuple[str, Path]) -> None:
    drift = reconcile_tantivy(pipeline_db, pipeline_template[1] / "index")
    assert drift is not None and drift.clean, drift and drift.as_dict()


def ghost_of(url: str, product_id: str, ghost: str) -> RootDocuments:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT document FROM index_products WHERE {LIVE} AND product_id = %s",
                            (product_id,)).fetchall()
    docs = tuple(ProductDocument.model_validate({**row[0], "id": ghost, "handle": "ghost"}) for row in rows)
    return RootDocuments(RootKey("product", demo.TENANT_ID, UUID(ghost)), docs[0].version, docs)


def test_a_ghost_document_in_tantivy_is_found_and_removed_while_the_pipeline_is_stopped(
    pipeline_db: str, pipeline_template: tuple[str, Path], tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pipeline_template[1] / "index", index_dir)
    ghost = str(new_id())
    sink = TantivySink(index_dir, ("product",), live_version(pipeline_db, "product"))
    sink.setup()
    sink.write([ghost_of(pipeline_db, MUG, ghost)])
    sink.flush()
    sink.close()
    drift = reconcile_tantivy(pipeline_db, index_dir)
    assert drift is not None and {(k.locale, k.id) for k in drift.extra} == {(loc, ghost) for loc in demo.LOCALES}
    assert reconcile(pipeline_db).clean  # PostgreSQL never had it
    result = repair(pipeline_db, union(drift, reconcile(pipeline_db)), index_dir)
    assert [str(r.id) for r in result.removed] == [ghost] and result.notes == [] and result.signals == []
    after = reconcile_tantivy(pipeline_db, index_dir)
    assert after is not None and after.clean
