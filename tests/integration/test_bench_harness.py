"""The benchmark harness end to end at a tiny size, so it cannot rot. Its numbers never
gate the suite: the test checks that every scenario measured something sane and said
whether it met its target, not what the numbers are. The Kafka parts (Debezium beside
the embedded connector, the Faust rebuild and freshness beside the embedded runner, on
one local Kafka runtime the harness starts itself) have their own kafka-marked test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = ("write", "cdc", "rebuild", "freshness", "search", "scaling")


def _ordered(result: dict[str, Any]) -> bool:
    return bool(0 <= result["p50_ms"] <= result["p99_ms"])


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parts")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, admin_url: str, repo_root: Path,
            parts: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("harness")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--size", "120", "--out", str(out), "--admin-url", admin_url,
         "--parts", str(parts)],
        cwd=repo_root, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    reports = {}
    for name in SCENARIOS:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        reports[name] = json.loads((out / f"{name}.json").read_text())
    return reports


def test_every_scenario_states_its_target_whether_it_was_met_and_where_it_ran(
        harness: dict[str, dict[str, Any]]) -> None:
    for name, report in harness.items():
        assert report["scenario"] == name and report["target"] and isinstance(report["met"], bool)
        assert report["checks"] and report["met"] == all(check["met"] for check in report["checks"])
        machine = report["machine"]
        assert machine["cpus"] >= 1 and len(machine["load_average_before"]) == 3 and machine["git_commit"]


def test_write_and_capture_measure_real_traffic(harness: dict[str, dict[str, Any]]) -> None:
    write = harness["write"]["results"]
    assert write["creations_per_second"] > 0 and write["errors"] == 0
    cdc = harness["cdc"]["results"]
    assert cdc["throughput"]["rows"] > 0 and cdc["throughput"]["stream_rows_per_second"] > 0
    embedded = cdc["latency"]["embedded"]
    # Measured from the writer's COMMIT returning: the connector can deliver a row a fraction of
    # a millisecond before that, so this latency may be slightly negative, never disordered.
    assert embedded["count"] > 0 and embedded["p50_ms"] <= embedded["p90_ms"] <= embedded["p99_ms"]
    assert cdc["latency"]["bulk"]["embedded_rows_per_second"] > 0
    assert "debezium" in harness["cdc"]["skipped"]  # no --kafka: said so, not silently absent


def test_rebuild_and_freshness_report_events_memory_and_ordered_percentiles(
        harness: dict[str, dict[str, Any]]) -> None:
    rebuild = harness["rebuild"]["results"]["embedded"]
    assert rebuild["generated"]["products"] == 120 and rebuild["median_events_per_second"] > 0
    assert rebuild["runs"][0]["events"] >= rebuild["generated"]["total_rows"] and rebuild["peak_rss_mb"] > 0
    assert "faust" in harness["rebuild"]["skipped"]
    fresh = harness["freshness"]["results"]["embedded"]
    # How many writes become visible in time depends on the machine's load: only the counting is checked.
    assert fresh["writes"] > 0 and fresh["observed"] > 0 and fresh["observed"] + fresh["never_visible"] == fresh["writes"]
    assert 0 <= fresh["p50_ms"] <= fresh["p95_ms"] <= fresh["p99_ms"] <= fresh["max_ms"]


def test_search_and_scaling_compare_backends_on_the_same_queries(harness: dict[str, dict[str, Any]]) -> None:
    backends = harness["search"]["results"]["backends"]
    for name in ("tantivy", "tantivy_uncached", "postgres"):  # uncached: the same server without its facet cache
        assert backends[name]["ok"] > 0 and _ordered(backends[name])
    assert "postgres" in harness["search"]["results"]["ratios_to_tantivy"]
    points = harness["scaling"]["results"]["points"]
    assert len(points) == 2
    for point in points.values():
        assert point["rebuild_seconds"] > 0 and _ordered(point["search"]["tantivy"])


def test_a_scaling_run_resumes_from_the_parts_an_earlier_run_measured(
        harness: dict[str, dict[str, Any]], parts: Path, tmp_path: Path, admin_url: str, repo_root: Path) -> None:
    first = harness["scaling"]["results"]["points"]
    assert sorted(p.name for p in parts.iterdir()) == ["rebuild-120.json", "rebuild-60.json", "search-120.json",
                                                       "search-60.json"]
    # An interrupted run: the 120-product rebuild was never measured. The resumed run measures
    # only that one again and takes the other three parts as they were.
    (parts / "rebuild-120.json").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--size", "120", "--scenarios", "scaling", "--out",
         str(tmp_path), "--admin-url", admin_url, "--parts", str(parts)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    points = json.loads((tmp_path / "scaling.json").read_text())["results"]["points"]
    assert points["60"]["search"] == first["60"]["search"] and points["120"]["search"] == first["120"]["search"]
    assert points["60"]["rebuild_seconds"] == first["60"]["rebuild_seconds"]
    assert set(points["60"]["reused_parts"]) == {str(parts / "rebuild-60.json"), str(parts / "search-60.json")}
    assert set(points["120"]["reused_parts"]) == {str(parts / "search-120.json")}
    remeasured = json.loads((parts / "rebuild-120.json").read_text())
    assert remeasured["generated"]["products"] == 120 and remeasured["measured"]["git_commit"]
    assert points["120"]["rebuild_seconds"] == remeasured["median_seconds"] > 0


def test_a_part_of_another_size_is_refused_not_mixed_in(tmp_path: Path, admin_url: str, repo_root: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "search-60.json").write_text(json.dumps({"products": 61, "backends": {}}))
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--size", "60", "--scenarios", "search", "--out",
         str(tmp_path / "out"), "--admin-url", admin_url, "--parts", str(tmp_path / "parts")],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1 and "holds 61 products" in done.stdout
    assert not (tmp_path / "out" / "search.json").exists()


@pytest.mark.kafka
def test_the_kafka_scenarios_measure_debezium_and_faust_beside_the_embedded_path(
        tmp_path: Path, admin_url: str, repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--kafka", "--size", "60", "--scenarios",
         "cdc,rebuild,freshness", "--out", str(tmp_path), "--admin-url", admin_url],
        cwd=repo_root, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cdc, rebuild, fresh = (json.loads((tmp_path / f"{name}.json").read_text())
                           for name in ("cdc", "rebuild", "freshness"))
    assert not (cdc["skipped"] or rebuild["skipped"] or fresh["skipped"])
    debezium = cdc["results"]["latency"]["debezium"]
    assert debezium["count"] > 0 and 0 <= debezium["p50_ms"] <= debezium["p99_ms"]
    same_bulk = cdc["results"]["latency"]["bulk"]
    assert same_bulk["embedded_rows_per_second"] > 0 and same_bulk["debezium_rows_per_second"] > 0
    faust = rebuild["results"]["faust"]
    assert faust["events_per_second"] > 0 and faust["worker_peak_rss_mb"] > 0
    faust_fresh = fresh["results"]["faust"]
    assert faust_fresh["observed"] == faust_fresh["writes"] > 0 and faust_fresh["p50_ms"] <= faust_fresh["p99_ms"]
    assert any(check["name"].startswith("Debezium + Faust") for check in fresh["checks"])
