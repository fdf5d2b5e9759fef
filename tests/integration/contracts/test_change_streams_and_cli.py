"""Change-stream suites on a real sample, and the `rustok contracts` command's exit codes and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from typer.testing import CliRunner

from rustok import demo
from rustok.contracts_check import run_stream_suites, sample_change_events


def test_every_change_stream_expectation_passes_on_real_events(pipeline_db: str) -> None:
    events = sample_change_events(pipeline_db, per_table=50)
    outcomes, notes = run_stream_suites(events)
    assert [o.description for o in outcomes if not o.success] == []
    suites = {o.suite for o in outcomes}
    assert {"change_stream.commerce_products", "change_stream.nodes", "change_stream.commerce_prices"} <= suites
    with psycopg.connect(pipeline_db) as conn:  # the temporary slot went with its connection
        assert conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)


@pytest.fixture
def cli(pipeline_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RUSTOK_DATABASE_URL", pipeline_db)
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
