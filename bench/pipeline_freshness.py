"""Commit → searchable freshness of the embedded pipeline under a steady write rate.

Builds a catalogue of ``--products`` products (``bench.generator``), starts ``EmbeddedPipeline`` on it (snapshot), then a
writer commits ``--rate`` small transactions per second for ``--duration`` seconds,
open loop (each on its own schedule, so a slow pipeline cannot slow the writer down):
each sets one product's English title to a unique marker. A probe registered with the
runner (``EmbeddedRunner.on_visible``) records when each marker's document had been
flushed by every sink: at that moment the JSONB read table and Tantivy have both
committed it. Freshness = probe flush time − the writer's commit time (wall clock,
after COMMIT returned). Afterwards every marker is checked in ``index_products``.
Writes p50/p95/p99/max to ``bench/results/pipeline_freshness.json``
(``--small``: a few seconds, ``pipeline_freshness_small.json``).

    .venv/bin/python -m bench.pipeline_freshness                # 200 writes/s for 20 s
    .venv/bin/python -m bench.pipeline_freshness --small
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from bench.pipeline_rebuild import (
    PREFIX,
    RESULTS,
    SINK_STAGES,
    STAGES,
    bench_server,
    clone,
    drop_slot,
    prepare_template,
    load_average,
    peak_rss_mb,
)
from pipelines.model import RootDocuments
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.postgres import drop_database

MARKER = "fresh-"
STAGE_NAMES = STAGES + SINK_STAGES
SLOT = f"{PREFIX}_freshness"


class FreshnessProbe:
    """Notes when each marker title became visible in every sink (a runner listener)."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def visible(self, batch: list[RootDocuments]) -> None:
        now = time.time()
        for emission in batch:
            for doc in emission.documents:
                title = getattr(doc, "title", None)
                if doc.locale == "en" and isinstance(title, str) and title.startswith(MARKER):
                    self.seen.setdefault(title, now)


def write_steadily(database_url: str, products: int, rate: float, duration: float) -> tuple[dict[str, float], float]:
    """Commit ``rate`` marker updates per second, open loop; returns marker → commit time
    and the seconds the writes took."""
    committed: dict[str, float] = {}
    count = int(rate * duration)
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.monotonic()
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            marker = f"{MARKER}{i}"
            product = i % products + 1
            conn.execute("UPDATE commerce_product_translations SET title = %s WHERE id = md5(%s)::uuid",
                         (marker, f"pt{product}en"))
            committed[marker] = time.time()
        return committed, time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def visible_markers(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT document->>'title' FROM index_products WHERE locale = 'en' AND "
                            "document->>'title' LIKE %s", (MARKER + "%",)).fetchall()
    return {str(row[0]) for row in rows}


def measure(database_url: str, state_dir: Path, products: int, rate: float, duration: float) -> dict[str, Any]:
    probe = FreshnessProbe()
    options = PipelineOptions(database_url=database_url, state_dir=state_dir, slot_name=SLOT)
    pipeline = EmbeddedPipeline(options)
    snapshot_started = time.perf_counter()
    pipeline.start()
    snapshot_seconds = time.perf_counter() - snapshot_started
    assert pipeline.runner is not None
    pipeline.runner.on_visible(probe.visible)
    load_before = load_average()
    try:
        stages_before = {stage: pipeline.metrics.stage_seconds(stage) for stage in STAGE_NAMES}
        # The writer is its own process, as the write API would be: sharing the pipeline's
        # interpreter lock would slow both and blur what is measured.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            committed, write_seconds = pool.submit(write_steadily, database_url, products, rate, duration).result()
        deadline = time.monotonic() + 30
        while len(probe.seen) < len(committed) and time.monotonic() < deadline and pipeline.failed is None:
            time.sleep(0.05)
    finally:
        pipeline.stop()
    stages = {stage: round(pipeline.metrics.stage_seconds(stage) - stages_before[stage], 3) for stage in STAGE_NAMES}
    latencies = [max(0.0, probe.seen[m] - t) for m, t in committed.items() if m in probe.seen]
    final_titles = visible_markers(database_url)
    last_per_product = {i % products: f"{MARKER}{i}" for i in range(len(committed))}
    return {
        "writes": len(committed),
        "achieved_writes_per_second": round(len(committed) / write_seconds, 1),
        "observed": len(latencies),
        "never_visible": len(committed) - len(latencies),
        "final_titles_in_read_table": sum(m in final_titles for m in last_per_product.values()),
        "products_written": len(last_per_product),
        "snapshot_seconds": round(snapshot_seconds, 3),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(sum(latencies) / len(latencies) * 1000, 1),
        "runner_seconds_while_writing": stages,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0, help="write transactions per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of writes")
    parser.add_argument("--small", action="store_true", help="300 products, 3 s of writes (a smoke test)")
    parser.add_argument("--port", type=int, default=55873)
    parser.add_argument("--admin-url", help="use this PostgreSQL server (its 'postgres' database) instead of "
                                            "starting one; it needs wal_level=logical")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    products, duration = (300, 3.0) if args.small else (args.products, args.duration)
    out = args.out or RESULTS / ("pipeline_freshness_small.json" if args.small else "pipeline_freshness.json")
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-freshness-"))
    try:
        with bench_server(work, args.port, args.admin_url) as admin_url:
            template, _ = prepare_template(admin_url, products)
            url = clone(admin_url, template, f"{PREFIX}_freshness")
            try:
                measured = measure(url, work / "state", products, args.rate, duration)
            finally:
                drop_slot(url, SLOT)
                drop_database(admin_url, f"{PREFIX}_freshness")
                drop_database(admin_url, template)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "pipeline_freshness", "label": args.label, "products": products,
        "target_rate": args.rate, "duration_seconds": duration, "target_p99_ms": 300,
        "measured": "writer's commit (wall clock after COMMIT returned) to the end of the flush of every sink",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "peak_rss_mb": peak_rss_mb(), **measured,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
