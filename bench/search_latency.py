"""Search latency over HTTP: Tantivy vs PostgreSQL on the same read model.

Generates ``--products`` synthetic products in en, de and ru (one document per locale),
writes them through the real sinks (PostgresSink, TantivySink), starts the search API
with uvicorn once per backend, and fires typical storefront queries (text + two
filters + facets) open-loop at ``--rate`` requests per second for ``--duration``
seconds. Latency is measured from each request's scheduled start, so a slow server
cannot hide its queueing (no coordinated omission). Writes p50/p95/p99 per backend
and the PostgreSQL/Tantivy ratio to ``bench/results/search_latency.json``.

    .venv/bin/python bench/search_latency.py                 # 100k products, 30 s per backend
    .venv/bin/python bench/search_latency.py --products 5000 --duration 10   # quick run

The load generator runs on the same machine as the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.documents import ProductDocument  # noqa: E402
from migrations import runner  # noqa: E402
from pipelines.sinks.postgres import PostgresSink  # noqa: E402
from pipelines.sinks.tantivy_sink import TantivySink  # noqa: E402
from rustok.postgres import EmbeddedPostgres, ensure_database  # noqa: E402
from tests.integration.search_api.catalog import BASE_TIME, Catalog, category, product, to_emissions  # noqa: E402

REQUEST_TIMEOUT = 10.0  # a request slower than this counts as an error ("ReadTimeout")
WORDS = {
    "en": (["organic", "cotton", "linen", "wool", "classic", "slim", "warm", "light", "vintage", "soft", "denim",
            "striped", "heavy", "summer", "winter"],
           ["shirt", "hoodie", "jacket", "sock", "mug", "scarf", "sweater", "trousers", "cap", "bag", "dress", "coat"]),
    "de": (["bio", "baumwolle", "leinen", "wolle", "klassisch", "schmal", "warm", "leicht", "weich", "gestreift",
            "sommer", "winter"],
           ["hemd", "kapuzenpullover", "jacke", "socke", "tasse", "schal", "pullover", "hose", "tasche", "kleid"]),
    "ru": (["органический", "хлопковый", "льняной", "шерстяной", "классический", "тёплый", "лёгкий", "мягкий",
            "летний", "зимний"],
           ["рубашка", "худи", "куртка", "носки", "кружка", "шарф", "свитер", "брюки", "сумка", "платье"]),
}
ROOTS = ["apparel", "home", "outdoor", "kids", "sport", "office", "garden", "kitchen", "travel", "beauty"]
TAGS = [f"tag-{i}" for i in range(30)]
COLORS = ["black", "white", "red", "blue", "green", "grey"]


def generate(catalog: Catalog, tenant: Any, count: int, seed: int = 7) -> Iterator[list[ProductDocument]]:
    rng = random.Random(seed)
    cats = [category([root, f"{root}-{i}"]) for root in ROOTS for i in range(5)]
    batch: list[ProductDocument] = []
    for n in range(count):
        cat, tags = rng.choice(cats), rng.sample(TAGS, 3)
        eur = rng.randrange(500, 20000, 10)
        options = {"color": rng.sample(COLORS, 2), "size": ["S", "M", "L"]}
        stock = rng.choice([0, 1, 5, 20, 100])
        picks = {loc: (rng.sample(adj, 2), rng.choice(nouns), rng.sample(adj + nouns, 8)) for loc, (adj, nouns) in WORDS.items()}
        pid = None
        for locale, (adjs, noun, body) in picks.items():
            doc = product(tenant, f"p-{n}", f"{adjs[0].title()} {adjs[1]} {noun} {n}", locale=locale, categories=[cat],
                          tags=tags, vendor=f"vendor-{n % 50}", prices={"EUR": eur, "USD": eur * 11 // 10},
                          stock=stock, options=options, published_days=n % 365, product_id=pid,
                          description=" ".join(body) + ".")
            pid = doc.id
            batch.append(doc)
        if len(batch) >= 3000:
            yield batch
            batch = []
    if batch:
        yield batch


def load(database_url: str, index_root: Path, count: int) -> tuple[str, float]:
    catalog = Catalog(database_url, index_root)
    tenant = catalog.tenant("bench", locales=("en", "de", "ru"))
    key = catalog.key(tenant, "search_public")
    sinks = [PostgresSink(database_url), TantivySink(index_root, heap_size=200_000_000)]
    started = time.monotonic()
    for sink in sinks:
        sink.setup()
    done = 0
    for batch in generate(catalog, tenant, count):
        emissions = to_emissions(batch)
        for sink in sinks:
            sink.write(emissions)
            sink.flush()
        done += len(batch) // 3
        print(f"  indexed {done}/{count} products", file=sys.stderr, flush=True)
    for sink in sinks:
        sink.close()
    return key, time.monotonic() - started


def queries(rng: random.Random) -> dict[str, Any]:
    locale = rng.choice(list(WORDS))
    adjs, nouns = WORDS[locale]
    q = rng.choice(nouns) if rng.random() < 0.6 else f"{rng.choice(adjs)} {rng.choice(nouns)}"
    root = rng.choice(ROOTS)
    filters = rng.choice([{"category": root, "in_stock": "true"},
                          {"tag": rng.choice(TAGS), "currency": "EUR", "price_min": "1000", "price_max": "8000"},
                          {"category": root, "option.color": rng.choice(COLORS)}])
    return {"q": q, "locale": locale, **filters, "facets": "category,tag", "limit": "20"}


async def fire(base: str, key: str, rate: float, duration: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=REQUEST_TIMEOUT) as client:
        for _ in range(20):  # warm up caches and connections
            try:
                await client.get("/v1/products/search", params=queries(rng))
            except httpx.HTTPError:
                pass
        start = time.perf_counter()
        total = int(rate * duration)

        async def one(scheduled: float, params: dict[str, Any]) -> None:
            try:
                response = await client.get("/v1/products/search", params=params)
                if response.status_code != 200:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                    return
            except httpx.HTTPError as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                return
            latencies.append((time.perf_counter() - scheduled) * 1000)

        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, queries(rng))))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    if not latencies:
        return {"requests": total, "ok": 0, "errors": errors}
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)  # noqa: E731
    return {"requests": total, "ok": len(latencies), "errors": errors, "achieved_rps": round(total / elapsed, 1),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(latencies[-1], 2),
            "mean_ms": round(statistics.fmean(latencies), 2)}


def service_time(database_url: str, index_root: Path, count: int, seed: int = 3) -> dict[str, Any]:
    """Closed loop, one query at a time, ``backend.search()`` in this process: the work a
    request costs without HTTP and without queueing behind other requests."""
    import psycopg

    from contracts.locale import Locale
    from search_api.backends.base import Scope, SearchBackend
    from search_api.backends.postgres import PostgresBackend
    from search_api.backends.tantivy import TantivyBackend
    from search_api.db import Database
    from search_api.query import parse_product_search

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM tenants WHERE slug = 'bench'").fetchone()
    assert row is not None
    rng = random.Random(seed)
    requests = [parse_product_search({k: [v] for k, v in queries(rng).items()}) for _ in range(count)]
    database = Database(database_url, 2)
    backends: dict[str, SearchBackend] = {"tantivy": TantivyBackend(index_root, lambda _: 1),
                                          "postgres": PostgresBackend(database)}
    out: dict[str, Any] = {"method": f"closed loop, {count} queries one at a time, backend.search() in process"}
    for name, backend in backends.items():
        for request in requests[:10]:
            backend.search(Scope(row[0], Locale(request.locale or "en")), request)
        took = []
        for request in requests:
            started = time.perf_counter()
            backend.search(Scope(row[0], Locale(request.locale or "en")), request)
            took.append((time.perf_counter() - started) * 1000)
        took.sort()
        out[name] = {p: round(took[min(len(took) - 1, int(int(p[1:]) / 100 * len(took)))], 2)
                     for p in ("p50", "p95", "p99")} | {"mean": round(statistics.fmean(took), 2)}
    database.close()
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(backend: str, database_url: str, index_root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "RUSTOK_SEARCH_DATABASE_URL": database_url, "RUSTOK_SEARCH_INDEX_DIR": str(index_root),
           "RUSTOK_SEARCH_BACKEND": backend, "RUSTOK_SEARCH_RATE_LIMIT_PER_SECOND": "100000",
           "RUSTOK_SEARCH_RATE_LIMIT_BURST": "100000"}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "search_api.app:app_from_environment",
                                "--port", str(port), "--log-level", "warning", "--no-access-log", "--workers", "1",
                                "--loop", "uvloop", "--http", "httptools"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/health").status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the search API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--notes", default="", help="free text recorded with the results (machine state, what changed)")
    parser.add_argument("--service-queries", type=int, default=200, help="in-process closed-loop queries (0: skip)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "search_latency.json")
    parser.add_argument("--work-dir", type=Path, help="keep data here and reuse it on the next run (same --products)")
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="rustok-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(work / "postgres", preferred_port=56432)
    try:
        info = server.start()
        url = info.url("bench")
        marker = work / f"loaded-{args.products}.key"
        if marker.exists():
            key, load_seconds = marker.read_text(), 0.0
        else:
            ensure_database(info.url("postgres"), "bench")
            runner.upgrade(url)
            key, load_seconds = load(url, work / "index", args.products)
            marker.write_text(key)
        results: dict[str, Any] = {"products": args.products, "documents": args.products * 3, "locales": list(WORDS),
                                   "rate_rps": args.rate, "duration_s": args.duration,
                                   "load_seconds": round(load_seconds, 1), "cpus": os.cpu_count(),
                                   "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "notes": args.notes,
                                   "server": "uvicorn, 1 worker, uvloop + httptools; load generator in this process",
                                   "query": "text (1-2 words) + two filters + facets category,tag; limit 20",
                                   "backends": {}}
        for backend in ("tantivy", "postgres"):
            process, base = serve(backend, url, work / "index")
            try:
                print(f"  firing at {backend} for {args.duration}s", file=sys.stderr, flush=True)
                before = os.getloadavg()
                results["backends"][backend] = asyncio.run(fire(base, key, args.rate, args.duration, seed=11))
                results["backends"][backend]["load_average_1m"] = {"before": round(before[0], 2),
                                                                   "after": round(os.getloadavg()[0], 2)}
            finally:
                _stop(process)
            _write(args.out, results)
        if args.service_queries:
            print(f"  in-process service time, {args.service_queries} queries per backend", file=sys.stderr, flush=True)
            results["service_time_in_process_ms"] = service_time(url, work / "index", args.service_queries)
        t, p = results["backends"]["tantivy"], results["backends"]["postgres"]
        if "p50_ms" in t and "p50_ms" in p:
            results["postgres_over_tantivy"] = {k: round(p[k] / t[k], 2) for k in ("p50_ms", "p95_ms", "p99_ms")}
        service = results.get("service_time_in_process_ms", {})
        if "tantivy" in service:  # the cost ratio; the HTTP ratio above mixes in queueing once a backend saturates
            results["postgres_over_tantivy_service_time"] = {k: round(service["postgres"][k] / service["tantivy"][k], 1)
                                                             for k in ("p50", "p95", "p99")}
        if "p50_ms" in t:
            results["targets_met_tantivy"] = {"p50_under_5ms": t["p50_ms"] < 5, "p99_under_20ms": t["p99_ms"] < 20}
        _write(args.out, results)
        print(json.dumps(results, indent=2))
    finally:
        if args.work_dir:
            server.stop()
        else:
            server.destroy()
            shutil.rmtree(work, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """A saturated server is still working off abandoned requests: give it 10 s, then kill it."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _write(out: Path, results: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
