"""``rustok snapshot`` against a running embedded pipeline, through typer's CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.settings import get_settings


@pytest.fixture
def rustok(database_url: str, tmp_path: Path) -> Iterator[CliRunner]:
    from rustok import cli

    env = {"RUSTOK_DATABASE_URL": database_url, "RUSTOK_STATE_DIR": str(tmp_path / "state")}

    class Runner(CliRunner):
        def run(self, *args: str) -> tuple[int, str]:
            get_settings.cache_clear()
            result = self.invoke(cli.app, list(args), env=env, catch_exceptions=False)
            return result.exit_code, result.output

    get_settings.cache_clear()
    yield Runner(env=env)
    get_settings.cache_clear()


def test_a_tenant_snapshot_shows_progress_and_reports_every_row_read(
    rustok: CliRunner, database_url: str, two_tenants: str, tmp_path: Path
) -> None:
    with EmbeddedPipeline(PipelineOptions(database_url=database_url, state_dir=tmp_path / "pipeline")):
        code, output = rustok.run("snapshot", "--table", "commerce_products", "--table",  # type: ignore[attr-defined]
                                  "commerce_product_translations", "--tenant", demo.DEMO_SLUG, "--timeout", "60")
    assert code == 0, output
    with psycopg.connect(database_url) as conn:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                                      (demo.TENANT_ID,)).fetchone()[0]  # type: ignore[index]
                  for table in ("commerce_products", "commerce_product_translations")}
    assert "rows/s" in output and "ETA" in output
    report = " ".join(output[output.index("incremental snapshot ("):].split())
    for table, count in counts.items():
        assert f"{table} │ {count} │ {count} │ done" in report
    assert f"{sum(counts.values())} rows in" in report


@pytest.mark.parametrize(("args", "message"), [
    (["--table", "commerce_products", "--tenant", "nobody"], "no tenant with slug 'nobody'"),
    (["--table", "api_keys"], "not a captured table"),
])
def test_bad_input_is_refused_and_writes_no_signal(
    rustok: CliRunner, database_url: str, two_tenants: str, args: list[str], message: str
) -> None:
    code, output = rustok.run("snapshot", *args)  # type: ignore[attr-defined]
    assert code == 2 and message in output.replace("\n", "")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM rustok_signals").fetchone() == (0,)
