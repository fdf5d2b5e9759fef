"""The benchmarks at a tiny size, so they cannot rot (the measurements themselves live in
bench/ and never gate the suite), and the bench data generator's promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from bench.generator import generate, parse_size, uid


def _run_small(module: str, admin_url: str, out: Path, repo_root: Path) -> dict[str, Any]:
    """``python -m module --small`` against the test server; its JSON report."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--small", "--admin-url", admin_url, "--out", str(out)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def test_the_rebuild_benchmark_runs_end_to_end_at_a_tiny_size(admin_url: str, tmp_path: Path, repo_root: Path
                                                              ) -> None:
    report = _run_small("bench.pipeline_rebuild", admin_url, tmp_path / "rebuild.json", repo_root)
    assert report["runs"] and all(run["events"] > 0 and run["documents"] > 0 for run in report["runs"])
    # The server is local, so each run's CPU is split by process and set against the machine's cores.
    for run in report["runs"]:
        parts = run["cpu_us_per_event"]
        assert parts["python"] > 0 and parts["postgres"] > 0
        assert abs(parts["total"] - parts["python"] - parts["writer"] - parts["postgres"]) < 0.5
    budget = report["cpu_budget"]
    assert budget["us_per_event_at_target"] == budget["cores"] * 1e6 / budget["target_events_per_second"]
    assert budget["cores_needed_at_target"] == round(
        budget["median_cpu_us_per_event"]["total"] * budget["target_events_per_second"] / 1e6, 2)


def test_the_read_table_cost_benchmark_prices_every_part_of_both_read_tables(admin_url: str, tmp_path: Path,
                                                                            repo_root: Path) -> None:
    report = _run_small("bench.read_table_cost", admin_url, tmp_path / "cost.json", repo_root)
    assert set(report["tables"]) == {"index_products", "index_content"}
    for table, cost in report["tables"].items():
        assert cost["documents"] > 0 and cost["us_per_document"]["total"] > 0, table
        assert any(name.endswith("_document") for name in cost["index_built_after_load_us_per_document"]), table
    with psycopg.connect(admin_url) as conn:  # the clone it rebuilt and measured is gone
        assert not conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_%read_cost'").fetchall()


_TABLES = ("commerce_products", "commerce_product_translations", "commerce_variants", "commerce_prices",
           "commerce_inventory_levels", "nodes", "node_bodies", "tenant_locales")


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as conn:
        # Timestamps default to now(): everything else must repeat.
        return {t: conn.execute(f"SELECT to_jsonb(t) - 'created_at' - 'updated_at' FROM {t} t ORDER BY id").fetchall()
                for t in _TABLES}


def test_the_same_seed_writes_the_same_rows_and_every_product_has_an_english_title(
        database_url: str) -> None:
    manifest = generate(database_url, 120, seed=5)
    assert manifest.rows["commerce_products"] == 120 and manifest.total_rows > 120 * 8
    first = _snapshot(database_url)
    with psycopg.connect(database_url) as conn:
        english = conn.execute("SELECT count(*) FROM commerce_product_translations WHERE locale = 'en' AND id = "
                               "ANY(SELECT md5('pt' || n || 'en')::uuid FROM generate_series(1, 120) n)").fetchone()
        assert english == (120,)
        assert conn.execute("SELECT id FROM commerce_products WHERE id = %s", (uid("p", 7),)).fetchone()
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM commerce_products")}
        locales = {r[0] for r in conn.execute("SELECT DISTINCT locale FROM node_bodies")}
        conn.execute("TRUNCATE tenants CASCADE")
    assert {"published", "draft"} <= statuses and {"en", "de", "ru"} <= locales
    again = generate(database_url, 120, seed=5)
    assert _snapshot(database_url) == first and again.rows == manifest.rows


def test_sizes_read_as_product_counts() -> None:
    assert parse_size("10k") == 10_000 and parse_size("1M") == 1_000_000 and parse_size("250") == 250
