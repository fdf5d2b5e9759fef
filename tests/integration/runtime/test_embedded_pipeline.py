"""The embedded pipeline wired end to end: real PostgreSQL, the embedded connector, the
projection core with its SQLite state, the JSONB read tables and Tantivy."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from bench.generator import generate, uid
from pipelines.model import RootDocuments
from pipelines.runtime.dead_letters import PostgresDeadLetters
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.readmodel import applied_lsn, live_version, table_documents, tantivy_documents
from tests.waiting import wait_for

LINEN = str(demo.demo_id("product", "linen-shirt"))


@pytest.fixture
def options(database_url: str, tmp_path: Path) -> Iterator[PipelineOptions]:
    yield PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def product_title(database_url: str, locale: str, product_id: str = LINEN) -> str | None:
    docs = table_documents(database_url)
    doc = docs.get((str(demo.TENANT_ID), locale, product_id))
    return None if doc is None else str(doc["title"])


def test_the_demo_catalogue_reaches_both_sinks_in_every_locale(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    with EmbeddedPipeline(options):
        pass
    rows = table_documents(database_url)
    assert {(locale, doc["handle"]) for (_, locale, _), doc in rows.items()} == {
        (locale, handle) for locale in demo.LOCALES for handle in demo.PRODUCTS
    }
    in_tantivy = tantivy_documents(options.index_dir, "product", live_version(database_url, "product"))
    assert in_tantivy == rows


def test_a_committed_change_is_visible_within_a_second_and_its_checkpoint_covers_the_commit(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    with EmbeddedPipeline(options), psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = 'Leinenhemd Neu'"
                     " WHERE product_id = %s AND locale = 'de'", (LINEN,))
        token = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        assert token is not None
        started = time.monotonic()
        wait_for(lambda: product_title(database_url, "de") == "Leinenhemd Neu", timeout=5)
        assert time.monotonic() - started < 1.0
        wait_for(lambda: applied_lsn(database_url) >= int(token[0]), timeout=2)


def test_a_restarted_pipeline_resumes_without_rebuilding(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    with EmbeddedPipeline(options):
        pass
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = 'Linen Shirt 2' WHERE product_id = %s"
                     " AND locale = 'en'", (LINEN,))
    with EmbeddedPipeline(options) as pipeline:
        wait_for(lambda: product_title(database_url, "en") == "Linen Shirt 2")
        assert pipeline.metrics.events("source") < 10, "resumed from the stream, not a new snapshot"
    assert live_version(database_url, "product") == 1


def test_a_lost_state_rebuilds_beside_the_live_version_and_switches_when_complete(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    with EmbeddedPipeline(options):
        pass
    before = table_documents(database_url)
    options.state_file.unlink()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (options.slot_name,))
    with EmbeddedPipeline(options):
        pass
    assert live_version(database_url, "product") == 2
    assert table_documents(database_url) == before
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM index_products WHERE index_version = 1").fetchone() == (0,)


def test_an_event_that_breaks_its_contract_goes_to_the_dlq_and_the_stream_goes_on(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    demo.seed_demo(engine)
    with EmbeddedPipeline(options) as pipeline, psycopg.connect(database_url, autocommit=True) as conn:
        assert pipeline.runner is not None
        # A record whose row does not fit its contract, delivered as the connector would.
        from connectors.embedded.records import ChangeRecord

        bad = {"before": None, "after": {"id": "not-a-uuid"}, "op": "c", "ts_ms": 1,
               "source": {"version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": 1,
                          "snapshot": "false", "db": "x", "schema": "public", "table": "commerce_products",
                          "lsn": 1}}
        pipeline.runner.deliver([ChangeRecord("rustok.public.commerce_products", {"id": "x"}, bad, 1, None)])
        conn.execute("UPDATE commerce_product_translations SET title = 'After The Bad One' WHERE product_id = %s"
                     " AND locale = 'en'", (LINEN,))
        wait_for(lambda: product_title(database_url, "en") == "After The Bad One")
    letters = PostgresDeadLetters(database_url).list("embedded")
    assert [(d.stage, d.topic) for d in letters] == [("project", "rustok.public.commerce_products")]
    assert "not-a-uuid" in letters[0].payload


class RecordingSink:
    """A sink that keeps what it is given (to see what a rewrite sends a new index version)."""

    name = "recording"

    def __init__(self) -> None:
        self.written: list[RootDocuments] = []
        self.flushes = 0

    def setup(self) -> None:
        pass

    def write(self, batch: Sequence[RootDocuments]) -> None:
        self.written.extend(batch)

    def flush(self) -> None:
        self.flushes += 1

    def close(self) -> None:
        pass


def test_the_emissions_remembered_for_a_switch_are_rewritten_whole_and_only_after_the_given_position(
    options: PipelineOptions, engine: sa.Engine, database_url: str
) -> None:
    # A replay that built a new version through position R gets, at the switch, everything the
    # live pipeline emitted for commits above R (kept encoded, out of the garbage collector's way).
    demo.seed_demo(engine)
    live = RecordingSink()
    with EmbeddedPipeline(options, extra_sinks=[live]) as pipeline, \
            psycopg.connect(database_url, autocommit=True) as conn:
        assert pipeline.runner is not None
        built_through = wait_for_applied(database_url, pipeline)
        conn.execute("UPDATE commerce_product_translations SET title = 'Leinenhemd Neu'"
                     " WHERE product_id = %s AND locale = 'de'", (LINEN,))
        wait_for(lambda: product_title(database_url, "de") == "Leinenhemd Neu", timeout=5)
        after_change = [e for e in live.written if str(e.root.id) == LINEN][-1]
        replacement = RecordingSink()
        assert pipeline.runner.rewrite_recent(built_through, [replacement]) is True
    assert replacement.flushes == 1
    assert [e for e in replacement.written if str(e.root.id) == LINEN] == [after_change]
    assert {e.root for e in replacement.written} == {after_change.root}  # nothing from the snapshot


def wait_for_applied(database_url: str, pipeline: EmbeddedPipeline) -> int:
    assert pipeline.runner is not None
    wait_for(lambda: applied_lsn(database_url) == pipeline.runner.applied_lsn, timeout=5)  # type: ignore[union-attr]
    return pipeline.runner.applied_lsn


class BulkRecordingSink(RecordingSink):
    """Notes which emissions came inside a bulk load (``BulkLoads``)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_bulk = False
        self.bulk_written: list[RootDocuments] = []
        self.bulks = 0
        self.ended: list[bool] = []

    def begin_bulk(self) -> None:
        self.in_bulk, self.bulks = True, self.bulks + 1

    def end_bulk(self, completed: bool) -> None:
        self.in_bulk = False
        self.ended.append(completed)

    def write(self, batch: Sequence[RootDocuments]) -> None:
        (self.bulk_written if self.in_bulk else self.written).extend(batch)


def test_a_snapshot_is_written_as_one_bulk_load_each_root_once_and_the_stream_after_it_is_not(
    options: PipelineOptions, database_url: str
) -> None:
    # What a sink may rely on in a bulk load (the JSONB sink COPYs it straight into an empty
    # version): about 7,500 rows, so more than a flush is absorbed before the snapshot ends.
    made = generate(database_url, 300, seed=7)
    sink = BulkRecordingSink()
    changed = str(uid("p", 1))  # the generator's product 1
    with EmbeddedPipeline(options, extra_sinks=[sink]) as pipeline, \
            psycopg.connect(database_url, autocommit=True) as conn:
        assert pipeline.runner is not None
        wait_for_applied(database_url, pipeline)
        conn.execute("UPDATE commerce_product_translations SET title = 'Renamed' WHERE product_id = %s"
                     " AND locale = 'en'", (changed,))
        wait_for(lambda: any(str(e.root.id) == changed for e in sink.written), timeout=5)
    roots = [e.root for e in sink.bulk_written]
    assert sink.bulks == 1 and not sink.in_bulk and sink.ended == [True]
    assert len(roots) == len(set(roots)) and changed in {str(r.id) for r in roots}
    assert {str(e.root.id) for e in sink.written} == {changed}
    # The read tables took the bulk load whole, and the change after it.
    products = table_documents(database_url)
    assert len(products) == made.product_documents
    assert len(table_documents(database_url, "index_content")) == made.content_documents
    assert [d["title"] for (_, locale, pid), d in products.items() if pid == changed and locale == "en"] == ["Renamed"]
