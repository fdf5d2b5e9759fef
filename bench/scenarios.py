"""The harness's scenarios: each measures one claim of the platform beside its baseline.

Every scenario takes the run's ``Context`` and returns a ``report.Outcome``. The work
is done by the single-purpose benches (``bench.write_api_throughput``,
``bench.cdc_throughput``, ``bench.pipeline_rebuild``, ``bench.pipeline_freshness``,
``bench.pipeline_freshness_faust``, ``bench/search_latency.py`` as a subprocess); the
catalogues come from ``bench.generator``, one template database per size, generated
once per run on the harness's PostgreSQL server and cloned for each measurement.

With a parts folder (``bench.run --parts DIR``) the two measurements that take hours at
1M products, the embedded rebuild and the search latency of one size, are kept there as
``rebuild-<N>.json`` and ``search-<N>.json`` and reused by the next run instead of being
measured again, so a scaling run stopped halfway resumes at the part it was measuring.
A reused part is named, with where and when it was measured, in the results that use it.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import cdc_throughput, pipeline_freshness, pipeline_rebuild, write_api_throughput
from bench.generator import Manifest, generate
from bench.report import Chart, Check, Outcome, machine
from connectors.embedded import throughput
from connectors.kafka_runtime import KafkaRuntime, install_jars
from migrations import runner
from rustok.postgres import drop_database, ensure_database

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
NO_KAFKA = "needs --kafka (a local Kafka broker and Kafka Connect)"


@dataclass
class Context:
    size: int
    quick: bool
    kafka: bool
    work: Path
    admin_url: str
    runs: int = 1
    seed: int = 42
    templates: dict[int, tuple[str, Manifest]] = field(default_factory=dict)
    faust_results: dict[int, dict[str, Any]] = field(default_factory=dict)
    rebuilds: dict[int, dict[str, Any]] = field(default_factory=dict)  # size → the embedded rebuild measured
    searches: dict[int, dict[str, Any]] = field(default_factory=dict)  # size → search_latency.py's report
    # Where search_latency.py keeps its loaded data per size (search-<N>/), reused by the next
    # run; None: inside ``work``, gone after the run (loading 100k products takes minutes).
    search_data: Path | None = None
    # Measured parts kept across runs (rebuild-<N>.json, search-<N>.json); None: none kept.
    parts: Path | None = None
    runtime: KafkaRuntime | None = None

    def kafka_runtime(self) -> KafkaRuntime:
        """One local Kafka broker and Kafka Connect for every Kafka part of the run, started on first use."""
        if self.runtime is None:
            runtime = KafkaRuntime(self.work / "kafka", install_jars())
            runtime.up()
            self.runtime = runtime
        return self.runtime

    def template(self, products: int) -> tuple[str, Manifest]:
        """A migrated database with ``products`` generated products, made once per size."""
        if products not in self.templates:
            name = f"{pipeline_rebuild.PREFIX}_t{products}"
            drop_database(self.admin_url, name)
            ensure_database(self.admin_url, name)
            runner.upgrade(pipeline_rebuild.url_of(self.admin_url, name))
            self.templates[products] = (name, generate(pipeline_rebuild.url_of(self.admin_url, name), products,
                                                       self.seed))
        return self.templates[products]

    def close(self) -> None:
        """Drop the templates and stop the Kafka runtime, if one was started."""
        for name, _ in self.templates.values():
            drop_database(self.admin_url, name)
        self.templates.clear()
        if self.runtime is not None:
            self.runtime.down()
            self.runtime = None


def write(ctx: Context) -> Outcome:
    products, clients, runs = (40, 2, 1) if ctx.quick else (1200, 4, max(3, ctx.runs))
    outcome = Outcome("write", "≥ 300 product creations/s through the write API (POST /v1/products)",
                      {"products_per_run": products, "clients": clients, "runs": runs})
    name = f"{pipeline_rebuild.PREFIX}_write"
    drop_database(ctx.admin_url, name)
    ensure_database(ctx.admin_url, name)
    try:
        runner.upgrade(pipeline_rebuild.url_of(ctx.admin_url, name))
        result = write_api_throughput.run(pipeline_rebuild.url_of(ctx.admin_url, name), products, clients, runs,
                                          warmup=10 if ctx.quick else 100)
    finally:
        drop_database(ctx.admin_url, name)
    outcome.results = result
    outcome.checks.append(Check("creations per second", result["creations_per_second"], 300, "at_least", "/s"))
    outcome.headline = f"{result['creations_per_second']} creations/s, p99 {result['latency_ms']['p99']} ms"
    outcome.chart.panel("product creations per second (each run)", "creations/s",
                        {"write API": {f"run {i + 1}": r["creations_per_second"] for i, r in enumerate(result["runs"])}},
                        target=300)
    return outcome


def cdc(ctx: Context) -> Outcome:
    rows, rate, seconds = (5_000, 500, 1.0) if ctx.quick else (200_000, 500, 10.0)
    outcome = Outcome("cdc", "embedded capture ≥ 50k row changes/s from a bulk write; capture latency p99 < 50 ms "
                             "at 500 commits/s (Debezium beside it in the same run: latency and a bulk INSERT's rows/s)",
                      {"bulk_rows": rows, "rate_commits_per_second": rate, "seconds": seconds})
    bulk = throughput.measure(rows, _free_port())
    with tempfile.TemporaryDirectory(prefix="rustok-bench-cdc-") as folder:
        latency = cdc_throughput.latency(rate, seconds, ctx.kafka, Path(folder),
                                         ctx.kafka_runtime() if ctx.kafka else None, bulk_rows=rows // 4)
    if not ctx.kafka:
        outcome.skipped["debezium"] = NO_KAFKA
    outcome.results = {"throughput": bulk, "latency": latency}
    stream = float(str(bulk["stream_rows_per_second"]))
    embedded = latency["embedded"]
    outcome.checks += [Check("embedded stream rows per second", stream, 50_000, "at_least", "rows/s"),
                       Check("embedded capture latency p99", embedded["p99_ms"], 50, "below", "ms")]
    beside = {system: float(value) for system in ("embedded", "debezium")
              if (value := latency.get("bulk", {}).get(f"{system}_rows_per_second")) is not None}
    outcome.headline = f"{stream:.0f} rows/s; p99 {embedded['p99_ms']} ms embedded" + (
        f", {latency['debezium']['p99_ms']} ms Debezium" if "debezium" in latency else "") + (
        f"; same bulk: embedded {beside['embedded']:.0f} vs Debezium {beside['debezium']:.0f} rows/s"
        if len(beside) == 2 else "")
    _cdc_chart(outcome.chart, stream, float(str(bulk["snapshot_rows_per_second"])), beside, latency, rate)
    return outcome


def _cdc_chart(chart: Chart, stream: float, snapshot: float, beside: dict[str, float], latency: dict[str, Any],
               rate: int) -> None:
    same = "same bulk, both systems"
    chart.panel("bulk capture", "rows/s", {
        "embedded": {"stream": stream, "snapshot": snapshot,
                     **({same: beside["embedded"]} if "embedded" in beside else {})},
        "debezium": {same: beside["debezium"]} if "debezium" in beside else {}}, target=50_000)
    chart.panel(f"commit → delivered at {rate} commits/s", "ms",
                {system: _percentiles(latency[system]) for system in ("embedded", "debezium") if system in latency},
                target=50)


def rebuild(ctx: Context) -> Outcome:
    outcome = Outcome("rebuild", "≥ 20k change events/s into both sinks with the embedded runner (Faust beside it: "
                                 "events/s and peak worker RSS)",
                      {"products": ctx.size, "runs": ctx.runs, "seed": ctx.seed})
    embedded = rebuild_embedded(ctx, ctx.size, ctx.runs)
    outcome.results["embedded"] = embedded
    systems = {"embedded": (embedded["median_events_per_second"], embedded["peak_rss_mb"])}
    faust: dict[str, Any] = faust_run(ctx) if ctx.kafka else {"error": NO_KAFKA}
    if "error" in faust:
        outcome.skipped["faust"] = faust["error"]
    else:
        events = ctx.template(ctx.size)[1].total_rows
        faust_rebuild = {**faust["rebuild"], "events": events,
                         "events_per_second": round(events / faust["rebuild"]["seconds"])}
        outcome.results["faust"] = faust_rebuild
        systems["faust"] = (faust_rebuild["events_per_second"], faust_rebuild["worker_peak_rss_mb"] or 0.0)
    outcome.checks.append(Check("embedded events per second", embedded["median_events_per_second"],
                                pipeline_rebuild.TARGET_EVENTS_PER_SECOND,
                                "at_least", "events/s"))
    outcome.headline = ", ".join(f"{name} {eps} events/s, {rss} MB peak" for name, (eps, rss) in systems.items())
    outcome.chart.panel("rebuild throughput", "events/s", {n: {"events/s": v[0]} for n, v in systems.items()},
                        target=pipeline_rebuild.TARGET_EVENTS_PER_SECOND)
    outcome.chart.panel("peak memory (RSS of the worker process)", "MB", {n: {"RSS": v[1]} for n, v in systems.items()})
    return outcome


def rebuild_embedded(ctx: Context, products: int, runs: int) -> dict[str, Any]:
    """The embedded rebuild of ``products``; measured once per size and run of the harness (or
    read from the parts folder, where a new measurement is also kept)."""
    if products not in ctx.rebuilds:
        kept = _part(ctx, "rebuild", products)
        if kept is not None:
            ctx.rebuilds[products] = kept
            return kept
        work = ctx.work / f"rebuild-{products}"
        try:
            measured = pipeline_rebuild.measure(ctx.admin_url, work, products, runs, seed=ctx.seed,
                                                prepared=ctx.template(products))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ctx.rebuilds[products] = _keep_part(ctx, "rebuild", products, measured)
    return ctx.rebuilds[products]


def _part(ctx: Context, kind: str, products: int) -> dict[str, Any] | None:
    """A part measured by an earlier run, from the parts folder; its file is recorded in it as
    ``part``. A part of another size or seed is an error, not a silent mix."""
    path = ctx.parts / f"{kind}-{products}.json" if ctx.parts else None
    if path is None or not path.exists():
        return None
    part = dict(json.loads(path.read_text()))
    sized = part.get("products", part.get("generated", {}).get("products"))
    seed = part.get("generated", {}).get("seed", ctx.seed) if kind == "rebuild" else ctx.seed
    if sized != products or seed != ctx.seed:
        raise ValueError(f"{path} holds {sized} products (seed {seed}), not {products} (seed {ctx.seed})")
    log.warning("reusing %s, measured %s", path, part.get("measured", {}).get("at", "by an earlier run"))
    part["part"] = str(path)
    return part


def _keep_part(ctx: Context, kind: str, products: int, measured: dict[str, Any]) -> dict[str, Any]:
    """``measured`` with where and when it was measured, written to the parts folder if there is one."""
    kept = {**measured, "measured": {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **machine()}}
    if ctx.parts is not None:
        ctx.parts.mkdir(parents=True, exist_ok=True)
        (ctx.parts / f"{kind}-{products}.json").write_text(json.dumps(kept, indent=2) + "\n")
    return kept


def freshness(ctx: Context) -> Outcome:
    rate, duration = 200.0, (2.0 if ctx.quick else 20.0)
    outcome = Outcome("freshness", "commit → searchable p99 < 300 ms embedded, < 2 s through Debezium and Faust, "
                                   "at 200 writes/s", {"products": ctx.size, "rate": rate, "duration_seconds": duration})
    name, _ = ctx.template(ctx.size)
    clone_name = f"{pipeline_rebuild.PREFIX}_freshness"
    url = pipeline_rebuild.clone(ctx.admin_url, name, clone_name)
    try:
        embedded = pipeline_freshness.measure(url, ctx.work / "freshness-state", ctx.size, rate, duration)
    finally:
        pipeline_rebuild.drop_slot(url, pipeline_freshness.SLOT)
        drop_database(ctx.admin_url, clone_name)
        shutil.rmtree(ctx.work / "freshness-state", ignore_errors=True)
    outcome.results["embedded"] = embedded
    outcome.checks.append(Check("embedded freshness p99", embedded["p99_ms"], 300, "below", "ms"))
    systems = {"embedded": embedded}
    faust: dict[str, Any] = {k: v for k, v in (faust_run(ctx) if ctx.kafka else {"error": NO_KAFKA}).items()
                             if k != "rebuild"}
    if "error" in faust:
        outcome.skipped["faust"] = faust["error"]
    else:
        outcome.results["faust"] = faust
        outcome.checks.append(Check("Debezium + Faust writes never visible", faust["never_visible"], 1, "below", ""))
        if faust["p99_ms"] is not None:
            systems["faust"] = faust
            outcome.checks.append(Check("Debezium + Faust freshness p99", faust["p99_ms"], 2000, "below", "ms"))
    outcome.headline = ", ".join(f"{n} p50 {r['p50_ms']} / p99 {r['p99_ms']} ms" for n, r in systems.items())
    outcome.chart.panel(f"commit → searchable at {rate:g} writes/s", "ms",
                        {n: _percentiles(r) for n, r in systems.items()}, target=300)
    return outcome


def faust_run(ctx: Context) -> dict[str, Any]:
    """Debezium + Faust on a clone of the size's template: its rebuild, then its freshness (once per run)."""
    if ctx.size not in ctx.faust_results:
        from bench import pipeline_freshness_faust as faust_bench  # imports kafka-python: only with --kafka

        name, manifest = ctx.template(ctx.size)
        clone_name = f"{pipeline_rebuild.PREFIX}_faust"
        url = pipeline_rebuild.clone(ctx.admin_url, name, clone_name)
        # One attempt per run: Kafka Connect keeps the connector's offsets, so a second
        # attempt on a new slot would fail for that reason alone, hiding the first failure.
        ctx.faust_results[ctx.size] = {"error": "the Faust run did not finish"}
        try:
            ctx.faust_results[ctx.size] = faust_bench.measure(
                url, ctx.kafka_runtime(), ctx.work / "faust", ctx.size, 200.0, 2.0 if ctx.quick else 20.0, 0.02,
                (manifest.product_documents, manifest.content_documents))
        except Exception as error:  # noqa: BLE001 - reported in the scenario's JSON, the run goes on
            ctx.faust_results[ctx.size] = {"error": f"{type(error).__name__}: {str(error)[:2000]}"}
        finally:
            pipeline_rebuild.drop_slot(url, "bench_faust_slot")
            drop_database(ctx.admin_url, clone_name)
    return ctx.faust_results[ctx.size]


def search(ctx: Context) -> Outcome:
    duration = 1.5 if ctx.quick else 20.0
    outcome = Outcome("search", "Tantivy over HTTP p50 < 5 ms and p99 < 20 ms at 100 requests/s (text, two filters, "
                                "facets; target set at 100k products in 3 locales); PostgreSQL and plain SQL as ratios",
                      {"products": ctx.size, "duration_seconds": duration, "locales": ["en", "de", "ru"]})
    result = search_latency(ctx, ctx.size, duration)
    backends = _measured(result)
    failed = {name: r.get("errors") for name, r in result.get("backends", {}).items() if name not in backends}
    if failed:  # a backend that answered nothing is a finding of its own, not a crash of the harness
        outcome.skipped.update({name: f"no successful request: {errors}" for name, errors in failed.items()})
    outcome.results = result
    if "tantivy" in backends:
        tantivy = backends["tantivy"]
        outcome.checks += [Check("Tantivy p50", tantivy["p50_ms"], 5, "below", "ms"),
                           Check("Tantivy p99", tantivy["p99_ms"], 20, "below", "ms")]
        outcome.results["ratios_to_tantivy"] = {
            name: {k: round(r[k] / max(tantivy[k], 1e-9), 2) for k in ("p50_ms", "p95_ms", "p99_ms")}
            for name, r in backends.items() if name != "tantivy"}
    outcome.headline = "; ".join(f"{n} p50 {r['p50_ms']} / p99 {r['p99_ms']} ms, {r.get('achieved_rps')} rps"
                                 for n, r in backends.items())
    outcome.chart.panel("search latency over HTTP at 100 requests/s", "ms",
                        {name: _percentiles(r) for name, r in backends.items()}, target=20)
    outcome.chart.panel("achieved throughput", "requests/s",
                        {name: {"rps": float(r.get("achieved_rps", 0))} for name, r in backends.items()})
    return outcome


def search_latency(ctx: Context, products: int, duration: float) -> dict[str, Any]:
    """``bench/search_latency.py`` in a subprocess (its own PostgreSQL, loader and servers); its JSON.
    Measured once per size and run of the harness (the first duration asked for wins)."""
    if products in ctx.searches:
        return ctx.searches[products]
    kept = _part(ctx, "search", products)
    if kept is not None:
        ctx.searches[products] = kept
        return kept
    out = ctx.work / f"search-{products}.json"
    command = [sys.executable, str(REPO / "bench" / "search_latency.py"), "--products", str(products),
               "--duration", str(duration), "--out", str(out),
               "--work-dir", str((ctx.search_data or ctx.work) / f"search-{products}")]
    if ctx.quick and "--service-queries" in (REPO / "bench" / "search_latency.py").read_text():
        command += ["--service-queries", "0"]  # the in-process service time: not needed for a smoke run
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"search_latency.py failed ({done.returncode}): {done.stderr[-3000:]}")
    ctx.searches[products] = _keep_part(ctx, "search", products, dict(json.loads(out.read_text())))
    return ctx.searches[products]


def scaling(ctx: Context) -> Outcome:
    sizes = scaling_sizes(ctx.size, ctx.quick)
    duration = 1.0 if ctx.quick else 10.0
    outcome = Outcome("scaling", "rebuild throughput holds as the catalogue grows (events/s at the largest size ≥ "
                                 "half that at the smallest) and Tantivy p99 < 20 ms at every size",
                      {"sizes": sizes, "search_duration_seconds": duration})
    points: dict[int, dict[str, Any]] = {}
    for products in sizes:
        built = rebuild_embedded(ctx, products, ctx.runs)
        searched = search_latency(ctx, products, duration)
        found = _measured(searched)
        points[products] = {"rebuild_seconds": built["median_seconds"],
                            "rebuild_events_per_second": built["median_events_per_second"],
                            "rebuild_peak_rss_mb": built["peak_rss_mb"],
                            "search": {n: {k: r.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "achieved_rps")}
                                       for n, r in found.items()}}
        reused = {part["part"]: part.get("measured", {}).get("at") for part in (built, searched) if "part" in part}
        if reused:  # measured by an earlier run (bench.run --parts): which, and when
            points[products]["reused_parts"] = reused
    outcome.results = {"points": points}
    small, large = points[sizes[0]], points[sizes[-1]]
    outcome.checks.append(Check(f"rebuild events/s at {sizes[-1]} over {sizes[0]}", round(
        large["rebuild_events_per_second"] / max(1, small["rebuild_events_per_second"]), 2), 0.5, "at_least", "×"))
    for products, point in points.items():
        if "tantivy" in point["search"]:
            outcome.checks.append(Check(f"Tantivy p99 at {products}", point["search"]["tantivy"]["p99_ms"], 20,
                                        "below", "ms"))
    outcome.chart = Chart("lines")
    outcome.chart.panel("rebuild time (embedded)", "seconds",
                        {"rebuild": {str(n): p["rebuild_seconds"] for n, p in points.items()}})
    backends = sorted({b for p in points.values() for b in p["search"]})
    outcome.chart.panel("search latency over HTTP", "ms", {
        f"{b} {k[:3]}": {str(n): p["search"][b][k] for n, p in points.items() if b in p["search"]}
        for b in backends for k in ("p50_ms", "p99_ms")})
    outcome.headline = "; ".join(f"{n}: rebuild {p['rebuild_seconds']} s" for n, p in points.items())
    return outcome


def scaling_sizes(size: int, quick: bool) -> list[int]:
    """10k, 100k and 1M up to ``size``; at least two points (a tenth of the size first)."""
    if quick:
        return [max(1, size // 2), size]
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= size]
    return sizes if len(sizes) >= 2 else [max(1, size // 10), size]


def _measured(search_report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The backends of a search report with latencies (at least one request answered)."""
    return {name: r for name, r in search_report.get("backends", {}).items()
            if r.get("ok") and r.get("p50_ms") is not None}


def _percentiles(result: dict[str, Any]) -> dict[str, float]:
    return {k[:3]: float(result[k]) for k in ("p50_ms", "p95_ms", "p90_ms", "p99_ms") if k in result}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SCENARIOS: dict[str, Callable[[Context], Outcome]] = {
    "write": write, "cdc": cdc, "rebuild": rebuild, "freshness": freshness, "search": search, "scaling": scaling,
}
