"""Rebuild throughput of the embedded pipeline: snapshot → core → both sinks, end to end.

Generates ``--products`` products with ``bench.generator`` (tenants with 3 to 5 locales,
1–4 variants, prices, inventory, translations, categories, tags, and content nodes: about
25 change events per product) into a template database, then, per run, clones it and times
``EmbeddedPipeline.start()`` on a fresh state directory: the embedded connector's
snapshot, decoding, the projection core over SQLite state, the JSONB read tables and
Tantivy. Each run is a fresh child process, so its peak RSS is the rebuild's own.
Reports events/s, documents/s, peak RSS, the runner's time per stage (the
rest of the wall time is the connector reading the snapshot), the time spent in the cyclic
garbage collector and the load average, to ``bench/results/pipeline_rebuild.json``
(``--small``: a few seconds, results in ``pipeline_rebuild_small.json``).

Stages overlap: a snapshot's roots are built ("project") while the sinks write the slice
before ("sinks", on another thread), so the stage seconds can add up to more than the wall
time; ``connector_and_other`` is then 0. On a shared machine, compare
``python_cpu_seconds`` (all threads of the rebuild's process), ``writer_cpu_seconds`` (the Tantivy
sink's writer process, ``pipelines.sinks.tantivy_writer``) and ``postgres_cpu_seconds`` (the
local server's processes over the run, read from ``/proc``; None for a server elsewhere) rather
than wall time.

    .venv/bin/python -m bench.pipeline_rebuild                  # 20k products, 3 runs
    .venv/bin/python -m bench.pipeline_rebuild --small          # smoke run
    .venv/bin/python -m bench.pipeline_rebuild --profile out.prof   # cProfile of one run
    .venv/bin/python -m bench.pipeline_rebuild --products 10000 --state-memory-rows 0   # state served from the file
    # iterating: generate once into a running server, then reuse the template
    .venv/bin/python -m bench.pipeline_rebuild --admin-url URL --template NAME --manifest m.json
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import multiprocessing
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bench.generator import Manifest, generate
from bench.procstat import local_postmaster, postgres_cpu_seconds
from migrations import runner
from pipelines.runtime.metrics import PipelineMetrics
from pipelines.state.sqlite import DEFAULT_MEMORY_ROWS
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.postgres import EmbeddedPostgres, drop_database, ensure_database

RESULTS = Path(__file__).parent / "results"
STAGES = ("decode", "project", "dead_letters", "sinks", "state_commit", "checkpoint")
SINK_STAGES = ("sink:postgres", "sink:tantivy")  # each sink's busy time; they overlap inside "sinks"
TARGET_EVENTS_PER_SECOND = 20_000

def generate_catalog(database_url: str, products: int, seed: int = 42) -> Manifest:
    """Write ``products`` products with their tenants and content (``bench.generator``)."""
    return generate(database_url, products, seed)


# Databases and slots carry the process id, so runs can share a server (``--admin-url``).
PREFIX = f"bench_{os.getpid()}"


# A rebuild's slot holds the WAL from its snapshot's consistent point until the snapshot is
# acknowledged, and meanwhile the sinks write every document to read tables on the same server:
# at 1M products that passed the 4 GB that ``rustok.postgres`` lets a slot pin, the slot was
# invalidated and the rebuild failed at its end. The bench server lets the slot keep it all, and
# writes less of it: no full-page images (this throwaway server is never recovered from a
# crash), and checkpoints at most every 30 min. At 1M products the read tables' writes came to
# about 1.5 GB of disk a minute with full-page images and about 0.9 GB without; over the ~50
# minutes of product documents the first fills this machine's disk.
BENCH_SERVER_SETTINGS = {"max_slot_wal_keep_size": "-1", "full_page_writes": "off",
                         "max_wal_size": "'24GB'", "checkpoint_timeout": "'30min'"}


@contextmanager
def bench_server(work: Path, port: int, admin_url: str | None = None) -> Iterator[str]:
    """Yields an admin URL (database ``postgres``): ``admin_url`` when given, else that of a
    throwaway embedded PostgreSQL started in ``work``."""
    if admin_url is not None:
        yield admin_url
        return
    server = EmbeddedPostgres(work / "pg", preferred_port=port, settings=BENCH_SERVER_SETTINGS)
    info = server.start()
    try:
        yield info.url("postgres")
    finally:
        server.destroy()


def prepare_template(admin_url: str, products: int, seed: int = 42) -> tuple[str, Manifest]:
    """A migrated database holding the catalogue; returns its name and what was written."""
    name = f"{PREFIX}_template"
    drop_database(admin_url, name)
    ensure_database(admin_url, name)
    runner.upgrade(url_of(admin_url, name))
    return name, generate_catalog(url_of(admin_url, name), products, seed)


def url_of(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


def clone(admin_url: str, template: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return url_of(admin_url, name)


def drop_slot(database_url: str, slot: str, timeout: float = 30.0) -> None:
    """Drop ``slot`` once its walsender has gone (it exits a moment after the connector closes)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            try:
                conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                             "WHERE slot_name = %s", (slot,))
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU time of this process (all its threads), or of its ended children (``RUSAGE_CHILDREN``:
    the Tantivy sink's writer process, once the pipeline stopped): less sensitive to a shared
    machine than wall time."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def stage_split(metrics: PipelineMetrics, wall: float) -> dict[str, float]:
    """Seconds per runner stage; ``connector_and_other`` is the rest of the wall time (the
    connector reading and converting the snapshot, sink setup, the alias switch)."""
    stages = {stage: round(metrics.stage_seconds(stage), 3) for stage in STAGES}
    stages["connector_and_other"] = round(max(0.0, wall - sum(stages.values())), 3)
    stages.update({stage: round(metrics.stage_seconds(stage), 3) for stage in SINK_STAGES})
    return stages


def read_model_counts(database_url: str) -> tuple[int, int]:
    """Product and content documents in the read tables."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM index_products), (SELECT count(*) FROM index_content)"
                           ).fetchone()
    assert row is not None
    return int(str(row[0])), int(str(row[1]))


def run_once(database_url: str, state_dir: Path, slot: str, expected: tuple[int, int],
             profile: Path | None = None, state_memory_rows: int = DEFAULT_MEMORY_ROWS) -> dict[str, Any]:
    """Time one rebuild from a fresh state directory; check every document reached the read tables."""
    shutil.rmtree(state_dir, ignore_errors=True)
    pipeline = EmbeddedPipeline(PipelineOptions(database_url=database_url, state_dir=state_dir, slot_name=slot,
                                                state_memory_rows=state_memory_rows))
    load_before = load_average()
    profiler = cProfile.Profile() if profile else None
    cpu_before, children_before = cpu_seconds(), cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    pipeline.start()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    stop_started = time.perf_counter()
    pipeline.stop()
    stop_seconds = time.perf_counter() - stop_started
    writer_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children_before
    if profiler and profile:
        profiler.dump_stats(profile)
    counts = read_model_counts(database_url)
    if counts != expected:
        raise SystemExit(f"read model incomplete: {counts} documents (products, content), expected {expected}")
    documents = sum(counts)
    events = int(pipeline.metrics.events("source"))
    return {
        "seconds": round(wall, 3),
        "events": events,
        "documents": documents,
        "events_per_second": round(events / wall),
        "documents_per_second": round(documents / wall),
        "python_cpu_seconds": round(cpu, 3),
        "events_per_python_cpu_second": round(events / cpu),
        "writer_cpu_seconds": round(writer_cpu, 3),
        "stop_seconds": round(stop_seconds, 3),
        "stages_seconds": stage_split(pipeline.metrics, wall),
        "peak_rss_mb_so_far": peak_rss_mb(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def cpu_per_event(run: dict[str, Any]) -> dict[str, float] | None:
    """CPU microseconds per change event of each process of a run, and their total; None
    without the server's share (a server elsewhere)."""
    if run.get("postgres_cpu_seconds") is None:
        return None
    parts = {"python": run["python_cpu_seconds"], "writer": run["writer_cpu_seconds"],
             "postgres": run["postgres_cpu_seconds"]}
    parts["total"] = sum(parts.values())
    return {name: round(seconds * 1e6 / run["events"], 1) for name, seconds in parts.items()}


def cpu_budget(runs: list[dict[str, Any]], cores: int) -> dict[str, Any] | None:
    """The runs' median CPU per event against what ``cores`` cores can spend per event at the
    target rate: the target is out of reach while ``cores_needed_at_target`` exceeds ``cores``,
    however well the processes overlap."""
    measured = [r["cpu_us_per_event"] for r in runs if r.get("cpu_us_per_event") is not None]
    if not measured:
        return None
    median = {name: round(statistics.median(c[name] for c in measured), 1) for name in measured[0]}
    return {"cores": cores, "target_events_per_second": TARGET_EVENTS_PER_SECOND,
            "us_per_event_at_target": round(cores * 1e6 / TARGET_EVENTS_PER_SECOND, 1),
            "median_cpu_us_per_event": median,
            "cores_needed_at_target": round(median["total"] * TARGET_EVENTS_PER_SECOND / 1e6, 2)}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "median_events_per_second": round(statistics.median(r["events_per_second"] for r in runs)),
        "median_documents_per_second": round(statistics.median(r["documents_per_second"] for r in runs)),
        "median_events_per_python_cpu_second": round(statistics.median(r["events_per_python_cpu_second"] for r in runs)),
        "median_postgres_cpu_seconds": _median_or_none([r.get("postgres_cpu_seconds") for r in runs]),
        "best_events_per_second": max(r["events_per_second"] for r in runs),
        "cpu_budget": cpu_budget(runs, os.cpu_count() or 1),
    }


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


class GcTimer:
    """Time spent in the cyclic garbage collector (a ``gc.callbacks`` entry)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.full += info.get("generation") == 2


def _child_run(database_url: str, state_dir: Path, slot: str, expected: tuple[int, int],
               profile: Path | None, state_memory_rows: int = DEFAULT_MEMORY_ROWS) -> dict[str, Any]:
    collector = GcTimer()
    gc.callbacks.append(collector)
    try:
        result = run_once(database_url, state_dir, slot, expected, profile, state_memory_rows)
    finally:
        gc.callbacks.remove(collector)
    result["gc_seconds"] = round(collector.seconds, 3)
    result["gc_full_collections"] = collector.full
    result["peak_rss_mb"] = peak_rss_mb()  # this child's: the rebuild alone
    result["writer_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return result


def measure(admin_url: str, work: Path, products: int, runs: int, profile: Path | None = None,
            seed: int = 42, prepared: tuple[str, Manifest] | None = None,
            state_memory_rows: int = DEFAULT_MEMORY_ROWS) -> dict[str, Any]:
    """Generate ``products`` into a template (or use the ``prepared`` template database and what it
    holds, which is then left in place), then ``runs`` rebuilds, each of a fresh clone in a fresh process
    (``state_memory_rows``: the pipeline's ``PipelineOptions.state_memory_rows``)."""
    template, manifest = prepared or prepare_template(admin_url, products, seed)
    expected = (manifest.product_documents, manifest.content_documents)
    postmaster = local_postmaster(admin_url)
    results = []
    try:
        for i in range(runs):
            name, slot = f"{PREFIX}_run_{i}", f"{PREFIX}_rebuild_{i}"
            url = clone(admin_url, template, name)
            try:
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    server_before = postgres_cpu_seconds(postmaster)
                    run = pool.submit(_child_run, url, work / f"state-{i}", slot, expected,
                                      profile if i == 0 else None, state_memory_rows).result()
                    server_after = postgres_cpu_seconds(postmaster)
                # The server's share: the snapshot's reads, the read tables' writes, WAL (the
                # child's own start-up and its check of the read tables are in it too).
                run["postgres_cpu_seconds"] = (round(server_after - server_before, 2)
                                               if server_before is not None and server_after is not None else None)
                run["cpu_us_per_event"] = cpu_per_event(run)
                results.append(run)
            finally:
                drop_slot(url, slot)
                drop_database(admin_url, name)
            print(json.dumps(results[-1]), flush=True)
    finally:
        if prepared is None:
            drop_database(admin_url, template)
    return {"generate_seconds": round(manifest.seconds, 3), "generated": manifest.to_json(),
            "events_per_product": round(manifest.total_rows / products, 1), "runs": results, **summarize(results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}


def manifest_from(path: Path) -> Manifest:
    """A manifest saved as ``Manifest.to_json`` (to reuse a template across runs while iterating)."""
    data = json.loads(path.read_text())
    return Manifest(data["products"], data["tenants"], data["seed"], Counter(data["rows"]),
                    data["product_documents"], data["content_documents"], data["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="300 products, one run (a smoke test)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first run's start() here")
    parser.add_argument("--port", type=int, default=55871)
    parser.add_argument("--admin-url", help="use this PostgreSQL server (its 'postgres' database) instead of "
                                            "starting one; it needs wal_level=logical")
    parser.add_argument("--seed", type=int, default=42, help="the generator's seed")
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. the commit measured)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--state-memory-rows", type=int, default=DEFAULT_MEMORY_ROWS,
                        help="rows of projection state kept whole in memory (0: serve state from the SQLite file, "
                             "as past this many rows)")
    parser.add_argument("--template", help="with --admin-url: an already generated template database to clone "
                                           "(its manifest is read from --manifest), instead of generating one")
    parser.add_argument("--manifest", type=Path, help="the generator's manifest JSON of --template")
    args = parser.parse_args()
    products, runs = (300, 1) if args.small else (args.products, args.runs)
    out = args.out or RESULTS / ("pipeline_rebuild_small.json" if args.small else "pipeline_rebuild.json")
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-rebuild-"))
    try:
        with bench_server(work, args.port, args.admin_url) as admin_url:
            prepared = (args.template, manifest_from(args.manifest)) if args.template and args.manifest else None
            measured = measure(admin_url, work, products, runs, args.profile, args.seed, prepared,
                               args.state_memory_rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "pipeline_rebuild", "label": args.label, "products": products,
        "state_memory_rows": args.state_memory_rows,
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        **measured,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
