"""Rebuilding the read model from the archive alone, as it was at a moment: compared with
what the live embedded pipeline showed at that moment (real PostgreSQL, real Tantivy)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
import sqlalchemy as sa

from pipelines.model import DocType
from rustok import demo
from rustok.archive import (
    ArchiveLayoutError, ArchiveReplayError, EmbeddedArchiveOptions, archive_embedded, read_manifest, replay_archive)
from rustok.archive.parts import ArchiveDirectory
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.archive.changes import (
    DEMO_TENANT, add_product, add_tenant, archived_rows, delete_product, rename, version_documents, wait_applied,
    wal_lsn)
from tests.integration.runtime.readmodel import live_version, table_documents, tantivy_documents

LINEN = str(demo.demo_id("product", "linen-shirt"))
Documents = dict[tuple[str, str, str], dict[str, Any]]


@dataclass
class History:
    """What the live pipeline showed after batch A (at ``moment``) and at the end."""

    database_url: str
    archive: Path
    index_dir: Path
    acme: UUID
    moment: datetime
    at_moment: dict[str, Documents]
    at_end: dict[str, Documents]


def live_documents(database_url: str) -> dict[str, Documents]:
    return {"product": table_documents(database_url, "index_products"),
            "content": table_documents(database_url, "index_content")}


def rebuilt_documents(database_url: str, versions: Mapping[DocType, int]) -> dict[str, Documents]:
    return {doc_type: version_documents(database_url, doc_type, version) for doc_type, version in versions.items()}


@pytest.fixture
def history(database_url: str, engine: sa.Engine, tmp_path: Path) -> Iterator[History]:
    demo.seed_demo(engine)
    archive = EmbeddedArchiveOptions(database_url, tmp_path / "archive")
    archive_embedded(archive)  # the archive's snapshot: the base of every rebuild
    pipeline = PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")
    with EmbeddedPipeline(pipeline), psycopg.connect(database_url, autocommit=True) as conn:
        # Batch A: a second tenant, products in multi-row transactions, edits and a delete.
        acme = add_tenant(conn, "acme")
        kettle = add_product(conn, acme, "kettle", "Kettle", 2500)
        add_product(conn, acme, "teapot", "Teapot", 1800)
        doomed = add_product(conn, demo.TENANT_ID, "doomed", "Doomed Shirt")
        rename(conn, LINEN, "Linen Shirt A")
        delete_product(conn, doomed)
        wait_applied(database_url, wal_lsn(conn))
        at_moment = live_documents(database_url)
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        moment = row[0]
        assert isinstance(moment, datetime)
        time.sleep(0.01)
        # Batch B: updates, deletes, new rows, a truncate.
        rename(conn, LINEN, "Linen Shirt B")
        rename(conn, kettle, "Kettle B")
        delete_product(conn, kettle)
        add_product(conn, acme, "mug", "Mug", 900)
        add_product(conn, demo.TENANT_ID, "late", "Late Shirt")
        conn.execute("UPDATE nodes SET status = 'draft' WHERE kind = 'page'")
        conn.execute("TRUNCATE commerce_product_tags")
        wait_applied(database_url, wal_lsn(conn))
        at_end = live_documents(database_url)
    archive_embedded(archive)
    yield History(database_url, archive.directory, pipeline.index_dir, acme, moment, at_moment, at_end)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def test_a_rebuild_until_a_moment_equals_the_live_read_model_at_that_moment(history: History) -> None:
    url = history.database_url
    assert history.at_moment != history.at_end, "batch B changed the read model"
    # Any time zone names the same moment (partitions are by UTC date).
    moment = history.moment.astimezone(timezone(timedelta(hours=-11)))
    report = replay_archive(url, history.archive, moment, history.index_dir)
    assert report.versions == {"product": 2, "content": 2}
    assert rebuilt_documents(url, report.versions) == history.at_moment
    for doc_type, version in report.versions.items():
        assert tantivy_documents(history.index_dir, doc_type, version) == history.at_moment[doc_type]
    assert report.documents_written == sum(len(d) for d in history.at_moment.values())
    assert report.dead_letters == 0 and report.events_read > 0
    # The live version was not touched.
    assert live_version(url, "product") == 1 and live_version(url, "content") == 1
    assert live_documents(url) == history.at_end


def test_a_rebuild_of_everything_equals_the_live_read_model_now_and_can_switch_to_it(history: History) -> None:
    url = history.database_url
    seen: list[tuple[int, int]] = []
    report = replay_archive(url, history.archive, None, history.index_dir, switch=True,
                            progress=lambda done, total: seen.append((done, total)))
    manifest = read_manifest(history.archive)
    assert manifest is not None and seen[-1] == (report.events_read, manifest.events), "progress over the manifest"
    assert live_version(url, "product") == report.versions["product"] == 2
    assert live_documents(url) == history.at_end
    assert tantivy_documents(history.index_dir, "product", 2) == history.at_end["product"]
    # An interrupted archive run may have written changes twice: they are read once.
    directory = ArchiveDirectory(history.archive)
    directory.write_rows([_without_date(r) for r in archived_rows(history.archive) if r["snapshot"] is None])
    directory.commit()
    again = replay_archive(url, history.archive, None, history.index_dir, doc_types=("product",))
    assert again.versions == {"product": 3}, "the next free version, never the live one"
    assert again.events_read == report.events_read
    assert version_documents(url, "product", 3) == history.at_end["product"]


def _without_date(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "date"}


def test_a_tenant_scoped_rebuild_contains_only_that_tenant_and_bad_requests_are_refused(history: History) -> None:
    url = history.database_url
    acme = str(history.acme)
    report = replay_archive(url, history.archive, history.moment, history.index_dir, tenant=acme)
    rebuilt = rebuilt_documents(url, report.versions)
    expected = {doc_type: {k: v for k, v in docs.items() if k[0] == acme}
                for doc_type, docs in history.at_moment.items()}
    assert rebuilt == expected
    assert {key[2] for key in rebuilt["product"]} and not rebuilt["content"]
    with pytest.raises(ArchiveReplayError):
        replay_archive(url, history.archive, None, history.index_dir, tenant=acme, switch=True)
    with pytest.raises(ArchiveReplayError):
        replay_archive(url, history.archive, None, history.index_dir, tenant="not-a-tenant")
    with pytest.raises(ArchiveReplayError, match="snapshot"):
        replay_archive(url, history.archive, history.moment - timedelta(days=1), history.index_dir)


def test_an_archived_event_that_breaks_its_contract_is_a_dead_letter_and_the_rebuild_goes_on(
    history: History,
) -> None:
    url = history.database_url
    directory = ArchiveDirectory(history.archive)
    good = _linen_update(history)
    broken = dict(good, after=good["after"].replace(LINEN, "not-a-uuid"), lsn=good["lsn"] + 1, seq=10**9)
    directory.write_rows([broken])
    directory.commit()
    report = replay_archive(url, history.archive, None, history.index_dir)
    assert report.dead_letters == 1
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT topic, stage FROM dead_letters WHERE pipeline = 'archive-replay'").fetchone()
    assert row == ("rustok.public.commerce_product_translations", "project")
    assert rebuilt_documents(url, report.versions) == history.at_end


def _linen_update(history: History) -> dict[str, Any]:
    import pyarrow.dataset as ds

    rows = ds.dataset(history.archive, format="parquet", partitioning="hive").to_table().to_pylist()
    found = [r for r in rows if r["op"] == "u" and r["tenant_id"] == DEMO_TENANT and LINEN in (r["after"] or "")]
    row = dict(found[-1])
    row.pop("date")
    return row


def test_an_empty_archive_rebuilds_an_empty_version_and_a_missing_one_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ArchiveLayoutError):
        replay_archive(database_url, tmp_path / "nothing", None, tmp_path / "index")
    archive = EmbeddedArchiveOptions(database_url, tmp_path / "archive")
    try:
        archive_embedded(archive)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
    report = replay_archive(database_url, archive.directory, None, tmp_path / "index")
    assert (report.events_read, report.documents_written, report.dead_letters) == (0, 0, 0)
    assert rebuilt_documents(database_url, report.versions) == {"product": {}, "content": {}}


def test_an_interrupted_rebuild_leaves_no_half_built_version_behind(history: History) -> None:
    url = history.database_url

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay_archive(url, history.archive, None, history.index_dir, progress=interrupt)
    assert not (history.index_dir / "product" / "v2").exists()
    assert version_documents(url, "product", 2) == {}
    rerun = replay_archive(url, history.archive, None, history.index_dir)
    assert rerun.versions == {"product": 2, "content": 2}
    assert rebuilt_documents(url, rerun.versions) == history.at_end
