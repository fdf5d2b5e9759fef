"""Search latency over HTTP: Tantivy, the PostgreSQL backend and plain SQL on the same data.

Generates ``--products`` synthetic products in en, de and ru (one document per locale),
writes them through the real sinks (PostgresSink, TantivySink), writes the same products
into the normalized write tables (products, translations, variants, prices, inventory,
category and tag links) for "plain SQL" — the full-text SQL a team without this platform
would write, served by a tiny FastAPI endpoint of the same shape defined here — starts
each system with uvicorn, and fires typical storefront queries (text + two filters +
facets) open-loop at ``--rate`` requests per second for ``--duration`` seconds. Latency
is measured from each request's scheduled start, so a slow server cannot hide its
queueing (no coordinated omission). Also records the server's CPU time per request
(from /proc: the signal a busy, shared machine disturbs least), the load average, and
in-process service time (wall and CPU) per system. Writes p50/p95/p99 per system and
the ratios to Tantivy to ``bench/results/search_latency.json``.

    .venv/bin/python bench/search_latency.py                 # 100k products, 30 s per system
    .venv/bin/python bench/search_latency.py --products 5000 --duration 10   # quick run
    .venv/bin/python bench/search_latency.py --work-dir /tmp/sbench/w100k --systems tantivy

The load generator runs on the same machine as the servers and PostgreSQL, in a process
of its own: by default pre-encoded requests on keep-alive connections of one uvloop loop
(~0.3 ms CPU per request; ``--client httpx`` keeps the AsyncClient of earlier runs, several
times that). ``--one-segment`` serves Tantivy from a one-commit copy of the product index
(built once, ~150 s for 100k products). ``--server-workers N`` serves each system with N uvicorn processes (the search
API then splits its rate limit, RUSTOK_SEARCH_PROCESSES).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from starlette.responses import Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.documents import ProductDocument  # noqa: E402
from migrations import runner  # noqa: E402
from pipelines.sinks.postgres import PostgresSink  # noqa: E402
from pipelines.sinks.tantivy_sink import TantivySink  # noqa: E402
from rustok.postgres import EmbeddedPostgres, ensure_database  # noqa: E402
from tests.integration.search_api.catalog import BASE_TIME, Catalog, category, product, to_emissions  # noqa: E402

REQUEST_TIMEOUT = 10.0  # a request slower than this counts as an error ("ReadTimeout")
SERVICE_BUDGET_SECONDS = 30.0  # in-process service time: at most this long per system
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
    # A bulk load, as a rebuild writes the index (each product once, one Tantivy commit at the end).
    sinks: list[PostgresSink | TantivySink] = [PostgresSink(database_url), TantivySink(index_root)]
    started = time.monotonic()
    for sink in sinks:
        sink.setup()
        sink.begin_bulk()
    done = 0
    for batch in generate(catalog, tenant, count):
        emissions = to_emissions(batch)
        for sink in sinks:
            sink.write(emissions)
            sink.flush()
        done += len(batch) // 3
        print(f"  indexed {done}/{count} products", file=sys.stderr, flush=True)
    for sink in sinks:
        sink.end_bulk(completed=True)
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
    lags: list[float] = []
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
            lags.append((time.perf_counter() - scheduled) * 1000)  # the generator's own delay, part of the latency
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
    return _summary(total, latencies, lags, errors, elapsed)


def fire_raw(port: int, key: str, rate: float, duration: float, seed: int) -> dict[str, Any]:
    """The default load generator, run in a process of its own (``run_generator``): requests
    encoded before the run, written on keep-alive connections of one uvloop loop (a new one
    whenever every open connection is busy, so the schedule never waits for the server)."""
    import urllib.parse

    import uvloop

    rng = random.Random(seed)
    head = f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()

    def encode(params: dict[str, Any]) -> bytes:
        return b"GET /v1/products/search?" + urllib.parse.urlencode(params).encode() + head

    warm = [encode(queries(rng)) for _ in range(20)]
    total = int(rate * duration)
    planned = [encode(queries(rng)) for _ in range(total)]
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    lags: list[float] = []
    errors: dict[str, int] = {}

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while idle:  # a kept-alive connection the server has closed since is dropped, not written to
            reader, writer = idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", port)

    async def send(request: bytes) -> bytes:
        reader, writer = await connection()
        writer.write(request)
        status = await reader.readline()
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            header = name.strip().lower()
            if header == b"content-length":
                length = int(value)
            elif header == b"connection" and value.strip().lower() == b"close":
                keep = False
        await reader.readexactly(length)
        if keep:
            idle.append((reader, writer))
        else:
            writer.close()
        return status

    async def one(scheduled: float, request: bytes) -> None:
        lags.append((time.perf_counter() - scheduled) * 1000)
        try:
            status = await asyncio.wait_for(send(request), REQUEST_TIMEOUT)
        except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
            # RuntimeError: uvloop's answer to a write on a transport closed under us
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            return
        if status.split(b" ")[1:2] != [b"200"]:
            code = status.split(b" ")[1].decode() if b" " in status else "bad status line"
            errors[code] = errors.get(code, 0) + 1
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)

    async def run() -> float:
        warm_until = time.perf_counter() + REQUEST_TIMEOUT  # a saturated system is not warmed for minutes
        for request in warm:
            try:
                await asyncio.wait_for(send(request), max(0.1, warm_until - time.perf_counter()))
            except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                break
        start = time.perf_counter()
        tasks = []
        for i, request in enumerate(planned):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(scheduled, request)))
        await asyncio.gather(*tasks)
        return time.perf_counter() - start

    cpu = time.process_time()
    elapsed = uvloop.run(run())
    out = _summary(total, latencies, lags, errors, elapsed)
    out["generator_cpu_ms_per_request"] = round((time.process_time() - cpu) * 1000 / (total + len(warm)), 3)
    return out


def _summary(total: int, latencies: list[float], lags: list[float], errors: dict[str, int],
             elapsed: float) -> dict[str, Any]:
    latencies.sort()
    if not latencies:
        return {"requests": total, "ok": 0, "errors": errors}
    at = _percentiles(latencies)
    return {"requests": total, "ok": len(latencies), "errors": errors, "achieved_rps": round(total / elapsed, 1),
            "p50_ms": at["p50"], "p95_ms": at["p95"], "p99_ms": at["p99"], "max_ms": round(latencies[-1], 2),
            "mean_ms": at["mean"],
            "generator_start_lag_ms": {k: v for k, v in _percentiles(lags).items() if k in ("p50", "p99")}}


def run_generator(client: str, base: str, key: str, rate: float, duration: float, seed: int) -> dict[str, Any]:
    """The load generator in a process of its own, so it competes with the server only for
    the CPU it needs (``raw``: pre-encoded requests; ``httpx``: the AsyncClient of earlier runs)."""
    import multiprocessing

    port = int(base.rsplit(":", 1)[1])
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        if client == "raw":
            return pool.apply(fire_raw, (port, key, rate, duration, seed))
        return pool.apply(_fire_httpx, (base, key, rate, duration, seed))


def _fire_httpx(base: str, key: str, rate: float, duration: float, seed: int) -> dict[str, Any]:
    cpu = time.process_time()
    out = asyncio.run(fire(base, key, rate, duration, seed))
    out["generator_cpu_ms_per_request"] = round((time.process_time() - cpu) * 1000 / (out["requests"] + 20), 3)
    return out


def service_time(database_url: str, index_root: Path, count: int, seed: int = 3,
                 budget_seconds: float = SERVICE_BUDGET_SECONDS,
                 systems: Sequence[str] | None = None) -> dict[str, Any]:
    """Closed loop, one query at a time, in this process: the work a request costs without
    HTTP and without queueing behind other requests. ``ms`` is wall time; ``cpu_ms`` is this
    process's CPU time (every thread: tantivy's facet pass runs beside the page pass), the
    signal that other load on the machine disturbs least. PostgreSQL's own CPU is not in it.
    Each system gets ``count`` queries or ``budget_seconds``, whichever ends first (the SQL
    systems take seconds per query at 1M products); ``queries`` says how many it got. Only
    ``systems`` are measured (None: all)."""
    from contracts.locale import Locale
    from search_api.backends.base import Scope, SearchBackend
    from search_api.backends.postgres import PostgresBackend
    from search_api.backends.tantivy import TantivyBackend
    from search_api.db import Database
    from search_api.query import parse_product_search

    database = Database(database_url, 2, statement_timeout_ms=0)  # the whole query time, however long
    row = database.fetch_one("SELECT id FROM tenants WHERE slug = 'bench'")
    assert row is not None
    rng, warm = random.Random(seed), random.Random(seed + 1)
    # Warm-up queries come from another stream: the same ones would prime the facet cache.
    params = [queries(rng) for _ in range(count)] + [queries(warm) for _ in range(10)]
    requests = [parse_product_search({k: [v] for k, v in p.items()}) for p in params]
    backends: dict[str, SearchBackend] = {"tantivy": TantivyBackend(index_root, lambda _: 1),
                                          "postgres": PostgresBackend(database)}
    runs: dict[str, Any] = {name: [lambda b=b, r=r: b.search(Scope(row[0], Locale(r.locale or "en")), r)
                                   for r in requests] for name, b in backends.items()}
    runs["plain_sql"] = [lambda p=p: database.fetch_all(*plain_sql(row[0], p)) for p in params]
    runs = {name: calls for name, calls in runs.items() if systems is None or name in systems}
    out: dict[str, Any] = {"method": f"closed loop, up to {count} queries or {budget_seconds:g} s per system, "
                                     "one at a time, in process"}
    for name, calls in runs.items():
        warm_until = time.monotonic() + budget_seconds / 3
        for call in calls[count:]:
            call()
            if time.monotonic() > warm_until:
                break
        deadline = time.monotonic() + budget_seconds
        took, cpu = [], []
        for call in calls[:count]:
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            took.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            if time.monotonic() > deadline:
                break
        out[name] = _percentiles(took) | {"cpu_ms": _percentiles(cpu), "queries": len(took)}
    for backend in backends.values():
        backend.close()
    database.close()
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    return out


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    at = {p: round(ordered[min(len(ordered) - 1, int(int(p[1:]) / 100 * len(ordered)))], 2)
          for p in ("p50", "p95", "p99")}
    return at | {"mean": round(statistics.fmean(ordered), 2)}


# --- "plain SQL": what a team without this platform would write -------------------------
# Full-text search straight over the normalized write tables (products, translations,
# variants, prices, inventory, category and tag links), with the GIN expression index per
# language such a team would add, and facet counts by GROUP BY over the filtered matches.
PLAIN_CONFIGS = {"en": "english", "de": "german", "ru": "russian"}
_PLAIN_COPY = {
    "commerce_categories": ("id", "tenant_id", "parent_id", "handle", "position"),
    "commerce_category_translations": ("id", "tenant_id", "category_id", "locale", "name"),
    "commerce_tags": ("id", "tenant_id", "slug", "name"),
    "commerce_products": ("id", "tenant_id", "handle", "status", "vendor", "product_type", "published_at"),
    "commerce_product_translations": ("id", "tenant_id", "product_id", "locale", "title", "subtitle", "description"),
    "commerce_product_categories": ("id", "tenant_id", "product_id", "category_id"),
    "commerce_product_tags": ("id", "tenant_id", "product_id", "tag_id"),
    "commerce_variants": ("id", "tenant_id", "product_id", "sku", "options", "position"),
    "commerce_prices": ("id", "tenant_id", "product_id", "variant_id", "currency_code", "amount"),
    "commerce_inventory_levels": ("id", "tenant_id", "product_id", "variant_id", "stocked_quantity"),
}


def load_normalized(database_url: str) -> float:
    """The write model of the documents the sinks indexed: same products, same text.

    One variant per colour (the document's colour option values), each with the EUR and
    USD price; the first variant holds the stock. Written with COPY, then indexed."""
    import psycopg
    from psycopg.types.json import Jsonb

    from contracts.ids import new_id

    started = time.monotonic()
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _PLAIN_COPY}
    with psycopg.connect(database_url, autocommit=True) as conn:
        tenant = conn.execute("SELECT id FROM tenants WHERE slug = 'bench'").fetchone()[0]  # type: ignore[index]
        categories: dict[str, Any] = {}
        tags: dict[str, Any] = {}

        def category_id(handles: list[str], names: list[str], leaf_id: str) -> Any:
            parent = None
            for depth, handle in enumerate(handles):
                if handle not in categories:
                    categories[handle] = leaf_id if depth == len(handles) - 1 else new_id()
                    rows["commerce_categories"].append((categories[handle], tenant, parent, handle, depth))
                    for locale in PLAIN_CONFIGS:
                        rows["commerce_category_translations"].append((new_id(), tenant, categories[handle], locale,
                                                                       names[depth]))
                parent = categories[handle]
            return parent

        cursor = conn.cursor(name="documents")
        cursor.itersize = 5000
        with conn.transaction():
            cursor.execute("SELECT document FROM index_products WHERE index_version = 1 AND tenant_id = %s"
                           " ORDER BY product_id, locale", [tenant])
            seen: set[str] = set()
            for (doc,) in cursor:
                _normalize(doc, tenant, seen, rows, tags, category_id, Jsonb)
        with conn.cursor() as copy_cursor:
            for table, columns in _PLAIN_COPY.items():
                with copy_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)
        for locale, config in PLAIN_CONFIGS.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS bench_plain_fts_{locale} ON commerce_product_translations"
                         f" USING gin ({_tsvector(config)}) WHERE locale = '{locale}'")
        conn.execute("ANALYZE")
    return time.monotonic() - started


def _normalize(doc: dict[str, Any], tenant: Any, seen: set[str], rows: dict[str, list[tuple[Any, ...]]],
               tags: dict[str, Any], category_id: Any, jsonb: Any) -> None:
    from contracts.ids import new_id

    pid = doc["id"]
    rows["commerce_product_translations"].append((new_id(), tenant, pid, doc["locale"], doc["title"],
                                                  doc.get("subtitle"), doc.get("description")))
    if pid in seen:
        return
    seen.add(pid)
    rows["commerce_products"].append((pid, tenant, doc["handle"], doc["status"], doc.get("vendor"),
                                      doc.get("product_type"), doc.get("published_at")))
    for ref in doc["categories"]:
        leaf = category_id(ref["path_handles"], ref["path"], ref["id"])
        rows["commerce_product_categories"].append((new_id(), tenant, pid, leaf))
    for slug, name in zip(doc["tag_slugs"], doc["tags"], strict=True):
        if slug not in tags:
            tags[slug] = new_id()
            rows["commerce_tags"].append((tags[slug], tenant, slug, name))
        rows["commerce_product_tags"].append((new_id(), tenant, pid, tags[slug]))
    prices = {p["currency"]: p["min"] for p in doc["prices"]}
    sizes = doc["options"].get("size", ["S"])
    for position, color in enumerate(doc["options"].get("color", [None])):
        vid = new_id()
        options = {"color": color, "size": sizes[0]} if color else {}
        rows["commerce_variants"].append((vid, tenant, pid, f"{doc['handle']}-{position + 1}", jsonb(options),
                                          position))
        for currency, amount in prices.items():
            rows["commerce_prices"].append((new_id(), tenant, pid, vid, currency, amount))
        rows["commerce_inventory_levels"].append((new_id(), tenant, pid, vid,
                                                  doc["total_stock"] if position == 0 else 0))


def _tsvector(config: str) -> str:
    return f"to_tsvector('{config}'::regconfig, title || ' ' || coalesce(description, ''))"


def plain_sql(tenant: Any, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The SQL a team would write for one storefront search, and its parameters."""
    locale = params.get("locale", "en") if params.get("locale") in PLAIN_CONFIGS else "en"
    config = PLAIN_CONFIGS[locale]
    words = [w for w in re.findall(r"\w+", params.get("q", "").lower())][:8]
    tsquery = " & ".join(words[:-1] + [words[-1] + ":*"]) if words else ""
    args: dict[str, Any] = {"tenant": tenant, "q": tsquery}  # locale and config are inlined: both whitelisted
    where = [f"{_tsvector(config)} @@ to_tsquery('{config}', %(q)s)"] if words else []
    if "category" in params:
        args["category"] = params["category"]
        where.append("EXISTS (SELECT 1 FROM commerce_product_categories pc JOIN commerce_categories c"
                     " ON c.id = pc.category_id LEFT JOIN commerce_categories up ON up.id = c.parent_id"
                     " WHERE pc.product_id = p.id AND %(category)s IN (c.handle, up.handle))")
    if "tag" in params:
        args["tag"] = params["tag"]
        where.append("EXISTS (SELECT 1 FROM commerce_product_tags pt JOIN commerce_tags tg ON tg.id = pt.tag_id"
                     " WHERE pt.product_id = p.id AND tg.slug = %(tag)s)")
    if params.get("in_stock") == "true":
        where.append("EXISTS (SELECT 1 FROM commerce_inventory_levels il"
                     " WHERE il.product_id = p.id AND il.stocked_quantity > il.reserved_quantity)")
    if "price_min" in params or "price_max" in params:
        args |= {"currency": params.get("currency", "EUR"), "low": int(params.get("price_min", 0)),
                 "high": int(params.get("price_max", 2**53))}
        where.append("EXISTS (SELECT 1 FROM commerce_prices pr WHERE pr.product_id = p.id"
                     " AND pr.currency_code = %(currency)s AND pr.amount BETWEEN %(low)s AND %(high)s)")
    for number, (name, value) in enumerate(p for p in params.items() if p[0].startswith("option.")):
        args[f"option_{number}"], args[f"value_{number}"] = name[len("option."):], value
        where.append(f"EXISTS (SELECT 1 FROM commerce_variants v WHERE v.product_id = p.id"
                     f" AND v.options ->> %(option_{number})s = %(value_{number})s)")
    rank = f"ts_rank({_tsvector(config)}, to_tsquery('{config}', %(q)s))" if words else "0"
    sql = f"""
WITH matched AS (
  SELECT p.id, p.handle, p.vendor, t.title, {rank} AS rank
  FROM commerce_product_translations t
  JOIN commerce_products p ON p.id = t.product_id AND p.tenant_id = t.tenant_id
  WHERE t.tenant_id = %(tenant)s AND t.locale = '{locale}' AND p.status = 'published'
    {''.join(' AND ' + w for w in where)}
)
SELECT
  (SELECT count(*) FROM matched),
  (SELECT coalesce(json_agg(h), '[]') FROM (SELECT id, handle, title, vendor, rank FROM matched
     ORDER BY rank DESC, id LIMIT 20) h),
  (SELECT coalesce(json_agg(f), '[]') FROM (SELECT h.handle AS value, count(DISTINCT m.id) AS count
     FROM matched m JOIN commerce_product_categories pc ON pc.product_id = m.id
     JOIN commerce_categories c ON c.id = pc.category_id LEFT JOIN commerce_categories up ON up.id = c.parent_id
     CROSS JOIN LATERAL (VALUES (c.handle), (up.handle)) h(handle) WHERE h.handle IS NOT NULL
     GROUP BY h.handle ORDER BY 2 DESC, 1 LIMIT 10) f),
  (SELECT coalesce(json_agg(f), '[]') FROM (SELECT tg.slug AS value, count(*) AS count
     FROM matched m JOIN commerce_product_tags pt ON pt.product_id = m.id JOIN commerce_tags tg ON tg.id = pt.tag_id
     GROUP BY tg.slug ORDER BY 2 DESC, 1 LIMIT 10) f)
"""
    return sql, args


def plain_sql_app() -> Any:
    """``uvicorn --factory search_latency:plain_sql_app``: the plain-SQL system's one endpoint,
    same path, parameters and answer shape (total, hits, facets) as the search API."""
    import orjson

    from search_api.db import Database
    from search_api.errors import BackendUnavailable

    database = Database(os.environ["BENCH_PLAIN_DATABASE_URL"], 8)
    expected = f"Bearer {os.environ['BENCH_PLAIN_KEY']}"
    row = database.fetch_one("SELECT id FROM tenants WHERE slug = 'bench'")
    assert row is not None
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/products/search")
    def search(request: Request) -> Response:
        if request.headers.get("authorization") != expected:
            raise HTTPException(401)
        sql, args = plain_sql(row[0], dict(request.query_params))
        try:
            total, hits, categories, tags = database.fetch_all(sql, args)[0]
        except BackendUnavailable as error:  # pool exhausted or statement timeout: 503, as the search API answers
            raise HTTPException(503) from error
        return Response(orjson.dumps({"total": total, "hits": hits,
                                      "facets": {"category": categories, "tag": tags}}),
                        media_type="application/json")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(system: str, database_url: str, index_root: Path, key: str,
          workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """Start one system under uvicorn (``workers`` processes, uvloop, httptools): a search API
    backend, or ``plain_sql``, the bench's own endpoint over the write tables."""
    port = free_port()
    env = {**os.environ, "RUSTOK_SEARCH_DATABASE_URL": database_url, "RUSTOK_SEARCH_INDEX_DIR": str(index_root),
           "RUSTOK_SEARCH_BACKEND": "tantivy" if system == UNCACHED else system,
           "RUSTOK_SEARCH_RATE_LIMIT_PER_SECOND": "100000",
           "RUSTOK_SEARCH_RATE_LIMIT_BURST": "100000", "BENCH_PLAIN_DATABASE_URL": database_url,
           "BENCH_PLAIN_KEY": key, "RUSTOK_SEARCH_PROCESSES": str(workers)}
    if system == UNCACHED:
        env["RUSTOK_SEARCH_TANTIVY_FACET_CACHE_SIZE"] = "0"
    app = (["--app-dir", str(Path(__file__).parent), "search_latency:plain_sql_app"] if system == "plain_sql"
           else ["search_api.app:app_from_environment"])
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", *app, "--port", str(port),
                                "--log-level", "warning", "--no-access-log", "--workers", str(workers), "--loop", "uvloop",
                                "--http", "httptools"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/health").status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{system} did not start")


# The same Tantivy server without its facet cache: every request counts its facets afresh,
# whatever the requests before it asked (the bench's queries repeat: ~20% of them whole).
UNCACHED = "tantivy_uncached"
SYSTEMS = ("tantivy", UNCACHED, "postgres", "plain_sql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--notes", default="", help="free text recorded with the results (machine state, what changed)")
    parser.add_argument("--service-queries", type=int, default=200, help="in-process closed-loop queries (0: skip)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "search_latency.json")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--work-dir", type=Path, help="keep data here and reuse it on the next run (same --products)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator (its own process): pre-encoded keep-alive requests, or httpx.AsyncClient")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn worker processes per system")
    parser.add_argument("--one-segment", action="store_true",
                        help="serve Tantivy from a one-commit (one-segment) copy of the product index, built once"
                             " into <work-dir>/index-one-segment from the PostgreSQL read table")
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="rustok-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(work / "postgres", preferred_port=56432)
    try:
        info = server.start()
        url = info.url("bench")
        marker = work / f"loaded-{args.products}.key"
        if marker.exists():
            runner.upgrade(url)  # data kept from an older checkout gets this one's read-table indexes
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
                                   "server": f"uvicorn, {args.server_workers} worker(s), uvloop + httptools",
                                   "client": f"{args.client}, open loop, in a process of its own",
                                   "facet_workers": os.environ.get("RUSTOK_SEARCH_TANTIVY_FACET_WORKERS", "4"),
                                   "plain_sql": "FTS over the write tables: to_tsvector(title || description) with a"
                                                " GIN expression index per language, EXISTS per filter, facets by"
                                                " GROUP BY over the filtered matches, ts_rank order",
                                   "query": "text (1-2 words) + two filters + facets category,tag; limit 20",
                                   "backends": {}}
        index_root = work / "index"
        if args.one_segment:
            index_root = one_segment_copy(url, work / "index-one-segment")
        results["tantivy_index"] = str(index_root.relative_to(work))
        results["tantivy_segments"] = _segments(index_root / "product" / "v1")
        plain_marker = work / f"normalized-{args.products}.done"
        if not plain_marker.exists():
            print("  writing the same products into the normalized write tables", file=sys.stderr, flush=True)
            results["normalized_load_seconds"] = round(load_normalized(url), 1)
            plain_marker.write_text("loaded\n")
        for system in args.systems:
            process, base = serve(system, url, index_root, key, args.server_workers)
            try:
                print(f"  firing at {system} for {args.duration}s", file=sys.stderr, flush=True)
                before, cpu_before = os.getloadavg(), _cpu_seconds(process.pid)
                run = run_generator(args.client, base, key, args.rate, args.duration, seed=11)
                run["load_average_1m"] = {"before": round(before[0], 2), "after": round(os.getloadavg()[0], 2)}
                if run.get("ok"):
                    spent = _cpu_seconds(process.pid) - cpu_before  # includes the 20 warm-up requests
                    run["server_cpu_ms_per_request"] = round(spent * 1000 / (run["requests"] + 20), 2)
                results["backends"][system] = run
            finally:
                _stop(process)
            _write(args.out, results)
        if args.service_queries:
            print(f"  in-process service time, {args.service_queries} queries per system", file=sys.stderr, flush=True)
            results["service_time_in_process_ms"] = service_time(url, index_root, args.service_queries,
                                                                  systems=args.systems)
        results |= _ratios(results)
        _write(args.out, results)
        print(json.dumps(results, indent=2))
    finally:
        if args.work_dir:
            server.stop()
        else:
            server.destroy()
            shutil.rmtree(work, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and its live children (uvicorn's workers; Linux /proc, 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(child) for child in children)


def one_segment_copy(database_url: str, root: Path) -> Path:
    """The product index written again in one commit, so it has one segment (tantivy-py has no
    merge call; the loader's commit per batch left several). Same documents: the read table's."""
    import psycopg

    from contracts.search_index import LAYOUTS, document_fields
    from pipelines.sinks.tantivy_schema import open_index, to_tantivy_json

    if (root / "product" / "v1" / "meta.json").exists():
        return root
    print("  writing a one-segment copy of the product index", file=sys.stderr, flush=True)
    layout = LAYOUTS["product"]
    index = open_index(layout, root / "product" / "v1")
    writer = index.writer(1_000_000_000, 1)  # one in-memory segment for 300k documents
    with psycopg.connect(database_url) as conn, conn.cursor(name="documents") as cursor:
        cursor.itersize = 5000
        cursor.execute("SELECT document FROM index_products WHERE index_version = 1")
        for (doc,) in cursor:
            writer.add_json(to_tantivy_json(layout, document_fields(ProductDocument.model_validate(doc))))
    writer.commit()
    writer.wait_merging_threads()
    return root


def _segments(path: Path) -> list[int]:
    """Documents per segment of the product index: search CPU grows with the segment count
    (a one-segment copy of the 100k index answered the bench queries with ~22% less CPU)."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except OSError:
        return []
    return [int(segment["max_doc"]) for segment in meta.get("segments", [])]


def _ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Each system over Tantivy. Over HTTP the ratio mixes in queueing once a system
    saturates (it cannot keep 100 req/s); the service-time ratio is the cost ratio."""
    out: dict[str, Any] = {}
    http, service = results["backends"], results.get("service_time_in_process_ms", {})
    tantivy = http.get("tantivy", {})
    for other in (UNCACHED, "postgres", "plain_sql"):
        if "p50_ms" in tantivy and "p50_ms" in http.get(other, {}):
            out[f"{other}_over_tantivy"] = {k: round(http[other][k] / tantivy[k], 2) for k in ("p50_ms", "p95_ms", "p99_ms")}
        if "tantivy" in service and other in service:
            out[f"{other}_over_tantivy_service_time"] = {k: round(service[other][k] / service["tantivy"][k], 1)
                                                         for k in ("p50", "p95", "p99")}
    if "p50_ms" in tantivy:
        out["targets_met_tantivy"] = {"p50_under_5ms": tantivy["p50_ms"] < 5, "p99_under_20ms": tantivy["p99_ms"] < 20}
    return out


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
