"""Change-stream suites on a real sample, and the `rustok contracts` command's exit codes and JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from rustok import demo
from rustok.contracts_check import run_stream_suites, sample_change_events
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from tests.integration.runtime.workload import Workload


def write_while_sampling(url: str) -> None:
    workload = Workload(url, seed=5)
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(30):
            workload.step(conn)
            time.sleep(0.03)


def test_every_change_stream_expectation_passes_on_real_events(pipeline_db: str) -> None:
    writer = threading.Thread(target=write_while_sampling, args=(pipeline_db,))
    writer.start()
    try:
        events = sample_change_events(pipeline_db, per_table=50, listen=4.0)
    finally:
        writer.join()
    assert {"r", "c", "u", "d"} <= {e["op"] for e in events}
    outcomes, notes = run_stream_suites(events)
    assert [o.description for o in outcomes if not o.success] == []
    suites = {o.suite for o in outcomes}
    assert {"change_stream.commerce_products", "change_stream.nodes", "change_stream.commerce_prices"} <= suites
    with psycopg.connect(pipeline_db) as conn:  # the temporary slot went with its connection
        assert conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)


@pytest.fixture
def cli(pipeline_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("RUSTOK_DATABASE_URL", pipeline_db)
    monkeypatch.setenv("RUSTOK_STATE_DIR", str(tmp_path))  # no stray local index to compare with
    from rustok.settings import get_settings

    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    from rustok.cli import app

    result = runner.invoke(app, ["contracts", *args])
    return result.exit_code, result.stdout


def test_check_exits_0_on_clean_output_and_1_with_a_bad_row_listed_in_its_json(cli: CliRunner, pipeline_db: str) -> None:
    code, out = run(cli, "check", "--tenant", demo.DEMO_SLUG, "--no-streams", "--json")
    assert code == 0, out
    assert json.loads(out)["success"] is True
    with psycopg.connect(pipeline_db, autocommit=True) as conn:
        conn.execute("UPDATE index_products SET document = jsonb_set(document, '{prices,0,currency}', '\"EUX\"')"
                     " WHERE handle = 'linen-shirt' AND locale = 'en'")
    code, out = run(cli, "check", "--no-streams", "--json")
    report = json.loads(out)
    assert code == 1 and report["success"] is False
    [failure] = [r for r in report["results"] if not r["success"]]
    assert failure["description"] == "every price range is in an ISO 4217 currency" and failure["sample"] == ["EUX"]


def test_an_unknown_tenant_is_a_usage_error(cli: CliRunner) -> None:
    assert run(cli, "check", "--tenant", "no-such-shop")[0] == 2
    assert run(cli, "reconcile", "--tenant", "no-such-shop")[0] == 2


def test_reconcile_exits_1_and_lists_a_deleted_row_as_missing(cli: CliRunner, pipeline_db: str) -> None:
    assert run(cli, "reconcile", "--json")[0] == 0
    with psycopg.connect(pipeline_db, autocommit=True) as conn:
        conn.execute("DELETE FROM index_products WHERE handle = 'linen-shirt' AND locale = 'ru'")
    code, out = run(cli, "reconcile", "--json")
    missing = json.loads(out)["drift"]["missing"]
    assert code == 1 and [(m["locale"], m["id"]) for m in missing] == [("ru", str(demo.demo_id("product", "linen-shirt")))]


OTHER = str(demo.demo_id("tenant", "other"))


def add_bad_row_of_another_tenant(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, slug, name, default_locale) VALUES (%s, 'other', 'Other', 'en')",
                     (OTHER,))
        conn.execute(
            "INSERT INTO index_products (index_version, tenant_id, locale, product_id, handle, status, document,"
            " source_lsn) SELECT index_version, %s, locale, product_id, handle, status,"
            " jsonb_set(jsonb_set(document, '{tenant_id}', to_jsonb(%s::text)), '{prices,0,currency}', '\"EUX\"'),"
            " source_lsn FROM index_products WHERE handle = 'linen-shirt' AND locale = 'en'", (OTHER, OTHER))


def test_a_tenants_check_and_reconcile_never_see_another_tenants_rows(cli: CliRunner, pipeline_db: str) -> None:
    add_bad_row_of_another_tenant(pipeline_db)
    assert run(cli, "check", "--tenant", demo.DEMO_SLUG, "--no-streams", "--json")[0] == 0
    assert run(cli, "reconcile", "--tenant", demo.DEMO_SLUG, "--json")[0] == 0
    code, out = run(cli, "check", "--tenant", "other", "--no-streams", "--json")
    failed = {r["description"] for r in json.loads(out)["results"] if not r["success"]}
    assert code == 1 and "every price range is in an ISO 4217 currency" in failed
    code, out = run(cli, "reconcile", "--json")
    assert code == 1 and [e["tenant_id"] for e in json.loads(out)["drift"]["extra"]] == [OTHER]


def test_reconcile_repair_waits_until_the_running_pipeline_has_rebuilt_the_drifted_roots(
    cli: CliRunner, pipeline_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rustok.settings import get_settings

    monkeypatch.setenv("RUSTOK_STATE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with EmbeddedPipeline(PipelineOptions(database_url=pipeline_db, state_dir=tmp_path / "pipeline")):
            with psycopg.connect(pipeline_db, autocommit=True) as conn:
                conn.execute("DELETE FROM index_products WHERE handle = 'ceramic-mug' AND locale = 'de' AND"
                             " index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = 'product')")
            code, out = run(cli, "reconcile", "--repair", "--wait", "30", "--json")
        result = json.loads(out)
        assert [m["locale"] for m in result["drift"]["missing"]] == ["de"]
        assert len(result["repair"]["signals"]) == 1
        assert result["after_repair"]["drift"]["clean"] and result["after_repair"]["tantivy_drift"]["clean"]
        assert code == 0
    finally:
        with psycopg.connect(pipeline_db, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")


def test_the_readable_report_names_each_failure_with_examples_and_shows_no_progress_bars(
    cli: CliRunner, pipeline_db: str
) -> None:
    from rustok.cli import app

    with psycopg.connect(pipeline_db, autocommit=True) as conn:
        conn.execute("UPDATE index_products SET document = jsonb_set(document, '{prices,0,min}', '999999999')"
                     " WHERE handle = 'travel-mug' AND locale = 'de'")
    result = cli.invoke(app, ["contracts", "check", "--no-streams"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("  FAIL the minimum price is at most the maximum") for line in lines), result.output
    assert any("ok   every published product has one row per enabled locale" in line for line in lines)
    assert lines[-1].endswith(" passed, 1 failed")
    assert "Calculating Metrics" not in result.output
