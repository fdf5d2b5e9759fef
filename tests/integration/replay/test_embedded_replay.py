"""`rustok replay` from the embedded source: real PostgreSQL, the embedded connector and
real Tantivy indexes, beside a live embedded pipeline."""

from __future__ import annotations

import threading
from dataclasses import replace

import psycopg
import pytest
from typer.testing import CliRunner

from pipelines.runtime.targets import load_targets
from rustok import demo
from rustok.cli import app
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.replay import EmbeddedReplay, ReplayOptions, ReplayReport
from rustok.settings import get_settings
from tests.integration.runtime.readmodel import caught_up, live_version, table_documents

from .readmodel import snapshot, version_rows
from tests.waiting import wait_for

LINEN = str(demo.demo_id("product", "linen-shirt"))


def _rename_linen(database_url: str, title: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = %s WHERE product_id = %s AND locale = 'en'",
                     (title, LINEN))


def test_a_replay_builds_a_version_equal_to_the_live_one_and_the_live_pipeline_follows_the_switch(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    url, index_dir = live_options.database_url, live_options.index_dir
    with EmbeddedPipeline(live_options) as live:
        _rename_linen(url, "Linen Shirt Before Replay")
        caught_up(url)
        old = {dt: live_version(url, dt) for dt in ("product", "content")}
        before = {dt: snapshot(url, index_dir, dt, v) for dt, v in old.items()}
        assert before["product"][0][0] > 0 and before["content"][0][0] > 0

        report = EmbeddedReplay(replay_options).run()

        new = {dt: live_version(url, dt) for dt in ("product", "content")}
        assert new == {dt: v + 1 for dt, v in old.items()}
        assert {dt: snapshot(url, index_dir, dt, v) for dt, v in new.items()} == before
        assert live.index_versions == new
        assert {dt: t.index_version for dt, t in load_targets(url, "embedded").items()} == new
        # The old version is gone, rows and Tantivy directory.
        assert all(version_rows(url, dt, v) == 0 for dt, v in old.items())
        assert not any((index_dir / dt / f"v{v}").exists() for dt, v in old.items())
        # The live pipeline now writes the new version.
        _rename_linen(url, "Linen Shirt After Replay")
        wait_for(lambda: table_documents(url)[(str(demo.TENANT_ID), "en", LINEN)]["title"]
                 == "Linen Shirt After Replay")
        assert live.failed is None
    assert report.events_read > 0 and report.documents_written == before["product"][0][0] + before["content"][0][0]
    assert report.dead_letters == 0 and not report.resumed
    assert report.versions == {dt: [old[dt], new[dt]] for dt in old}


def test_a_replay_scoped_to_one_document_type_leaves_the_other_version_alone(
    live_options: PipelineOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, index_dir = live_options.database_url, live_options.index_dir
    with EmbeddedPipeline(live_options):
        pass
    product, content = live_version(url, "product"), live_version(url, "content")
    products_before = snapshot(url, index_dir, "product", product)
    content_before = snapshot(url, index_dir, "content", content)

    monkeypatch.setenv("RUSTOK_DATABASE_URL", url)
    monkeypatch.setenv("RUSTOK_STATE_DIR", str(live_options.state_dir.parent))
    get_settings.cache_clear()
    try:  # through the command, with its progress bars
        result = CliRunner().invoke(app, ["replay", "--doc-type", "content", "--grace", "0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "documents written" in result.output and "catch-up" in result.output

    assert live_version(url, "product") == product
    assert live_version(url, "content") == content + 1
    assert snapshot(url, index_dir, "product", product) == products_before
    assert snapshot(url, index_dir, "content", content + 1) == content_before
    assert not (index_dir / "product" / f"v{product + 1}").exists()


def test_a_live_pipeline_that_stops_before_following_the_switch_is_reported_by_the_replay(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    url = live_options.database_url
    box: list[ReplayReport] = []
    live = EmbeddedPipeline(replace(live_options, alias_check_interval=3600))  # never looks at the aliases
    live.start()
    try:
        old = live_version(url, "product")
        replay = threading.Thread(target=lambda: box.append(EmbeddedReplay(replay_options).run()))
        replay.start()
        wait_for(lambda: live_version(url, "product") == old + 1, timeout=60)
        _rename_linen(url, "Written To The Old Version Only")
        caught_up(url)
    finally:
        live.stop()
    replay.join(timeout=60)
    assert box and len(box[0].warnings) == 1 and "replay again" in box[0].warnings[0]
