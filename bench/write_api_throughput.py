"""Write API throughput: product creations per second over HTTP against one server process.

Usage: .venv/bin/python -m bench.write_api_throughput [--url postgresql://...] [--products 1200] [--clients 4] [--runs 3]
Writes bench/results/write_api_throughput.json.

Each product has 3 variants, 2 prices per variant (EUR, USD) and 2 translations (en, de),
sent as one POST /v1/products with a JWT access token. The server is uvicorn with one
worker (httptools, uvloop) in a subprocess. The client runs in its own process so it
never competes with the server for one GIL: ``clients`` connections there keep requests in
flight: by default keep-alive connections on one asyncio loop with pre-encoded requests
(``--client raw``, cheap, so the server is what is measured), or httpx threads
(``--client httpx``). Each run is a fresh client process; the report gives
every run and the median. Server and client CPU seconds are read per run, and the
machine's load average before and after, since the machine is shared; with the embedded
PostgreSQL (no ``--url``) its CPU per creation too (the server and PostgreSQL share the
machine's two cores).
Without ``--url`` an embedded PostgreSQL is started in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.procstat import cpu_seconds, postgres_cpu_seconds
from migrations import runner
from rustok.postgres import EmbeddedPostgres, ensure_database

RESULTS = Path(__file__).parent / "results" / "write_api_throughput.json"
PLATFORM_TOKEN = "bench-platform-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def product(i: int) -> dict[str, Any]:
    handle = f"bench-product-{i}"
    return {
        "handle": handle,
        "translations": [{"locale": "en", "title": f"Product {i}", "description": "A benchmark product."},
                         {"locale": "de", "title": f"Produkt {i}", "description": "Ein Benchmark-Produkt."}],
        "variants": [
            {"sku": f"B-{i}-{size}", "options": {"size": size},
             "prices": [{"currency_code": "EUR", "amount": 1000 + n}, {"currency_code": "USD", "amount": 1100 + n}]}
            for n, size in enumerate(("S", "M", "L"))
        ],
    }


def _start_server(database_url: str, port: int, pool: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUSTOK_WRITE_DATABASE_URL": database_url, "RUSTOK_WRITE_PLATFORM_TOKEN": PLATFORM_TOKEN,
           "RUSTOK_WRITE_POOL_SIZE": str(pool), "RUSTOK_WRITE_ENVIRONMENT": "development"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "write_api.app:app_from_env", "--port", str(port),
               "--http", "httptools", "--loop", "uvloop", "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the write API did not start")


def _login(base: str) -> str:
    tenant = {"slug": "bench", "name": "Bench", "default_locale": "en", "locales": ["en", "de"],
              "admin": {"email": "admin@bench.example", "display_name": "Admin", "password": "bench password 123"}}
    headers = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}
    httpx.post(f"{base}/v1/tenants", json=tenant, headers=headers, timeout=30).raise_for_status()
    tokens = httpx.post(f"{base}/v1/auth/login", timeout=30, json={
        "tenant": "bench", "email": "admin@bench.example", "password": "bench password 123"})
    tokens.raise_for_status()
    return str(tokens.json()["access_token"])


def _drive(base: str, token: str, first: int, count: int, latencies: list[float], errors: list[str]) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for i in range(first, first + count):
            body = product(i)
            started = time.perf_counter()
            response = client.post("/v1/products", json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                errors.append(f"{response.status_code} {response.text[:200]}")


async def _drive_raw(port: int, token: str, first: int, count: int, latencies: list[float], errors: list[str]) -> None:
    """One keep-alive connection sending pre-encoded requests: a client that costs the
    machine little, so the server, not the load generator, is what is measured."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /v1/products HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n").encode()
    try:
        for i in range(first, first + count):
            body = orjson.dumps(product(i))
            started = time.perf_counter()
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b" 201 " not in status_line:
                errors.append(f"{status_line.decode().strip()} {payload[:200].decode(errors='replace')}")
    finally:
        writer.close()


def _client_raw(port: int, token: str, first: int, products: int, clients: int, out: Any) -> None:
    """One client process with ``clients`` connections on one asyncio loop."""
    latencies: list[float] = []
    errors: list[str] = []
    per_client = products // clients

    async def all_connections() -> None:
        await asyncio.gather(*(_drive_raw(port, token, first + n * per_client, per_client, latencies, errors)
                               for n in range(clients)))

    cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(all_connections())
    out.put({"latencies": latencies, "errors": errors, "seconds": time.perf_counter() - started,
             "client_cpu_seconds": time.process_time() - cpu})


def _client(base: str, token: str, first: int, products: int, clients: int, out: Any) -> None:
    """One client process: ``clients`` threads; sends back latencies, errors, seconds and its CPU."""
    latencies: list[float] = []
    errors: list[str] = []
    per_client = products // clients
    threads = [threading.Thread(target=_drive, args=(base, token, first + n * per_client, per_client, latencies, errors))
               for n in range(clients)]
    cpu, started = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put({"latencies": latencies, "errors": errors, "seconds": time.perf_counter() - started,
             "client_cpu_seconds": time.process_time() - cpu})


def _one_run(base: str, token: str, server_pid: int, first: int, products: int, clients: int,
             client: str = "raw", postmaster: int | None = None) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    load_before, server_cpu, postgres_cpu = os.getloadavg(), cpu_seconds(server_pid), postgres_cpu_seconds(postmaster)
    port = int(base.rsplit(":", 1)[1])
    worker = (spawn.Process(target=_client_raw, args=(port, token, first, products, clients, out)) if client == "raw"
              else spawn.Process(target=_client, args=(base, token, first, products, clients, out)))
    worker.start()
    measured = out.get(timeout=600)
    worker.join(30)
    server_cpu = cpu_seconds(server_pid) - server_cpu
    postgres_after = postgres_cpu_seconds(postmaster)
    postgres_ms = (None if postgres_cpu is None or postgres_after is None
                   else round((postgres_after - postgres_cpu) / len(measured["latencies"]) * 1000, 2))
    ordered = sorted(measured["latencies"])
    done, seconds = len(ordered), measured["seconds"]
    return {
        "products": done, "errors": len(measured["errors"]), "first_errors": measured["errors"][:3],
        "seconds": round(seconds, 3), "creations_per_second": round(done / seconds, 1),
        "latency_ms": {"median": round(statistics.median(ordered) * 1000, 2),
                       "p99": round(ordered[max(int(done * 0.99) - 1, 0)] * 1000, 2)},
        "server_cpu_seconds": round(server_cpu, 2), "server_cpu_ms_per_creation": round(server_cpu / done * 1000, 2),
        "postgres_cpu_ms_per_creation": postgres_ms,
        "client_cpu_seconds": round(measured["client_cpu_seconds"], 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def run(database_url: str, products: int, clients: int, runs: int, warmup: int = 100,
        client: str = "raw", postmaster: int | None = None) -> dict[str, Any]:
    """Median creations/s of ``runs`` runs of ``products`` creations each, after ``warmup``
    creations. ``postmaster``: the local PostgreSQL's pid, to report its CPU per creation."""
    port = _free_port()
    server = _start_server(database_url, port, pool=clients + 2)
    base = f"http://127.0.0.1:{port}"
    try:
        token = _login(base)
        _one_run(base, token, server.pid, 10_000_000, warmup, 1, client)  # warm-up: imports, pools, caches
        results = [_one_run(base, token, server.pid, (n + 1) * 1_000_000, products, clients, client, postmaster)
                   for n in range(runs)]
    finally:
        server.terminate()
        server.wait(10)
    median = sorted(results, key=lambda r: r["creations_per_second"])[(len(results) - 1) // 2]  # the median run
    return {
        "creations_per_second": median["creations_per_second"],
        "latency_ms": median["latency_ms"],
        "server_cpu_ms_per_creation": median["server_cpu_ms_per_creation"],
        "postgres_cpu_ms_per_creation": median["postgres_cpu_ms_per_creation"],
        "median_of_runs": runs, "products_per_run": products, "clients": clients,
        "errors": sum(r["errors"] for r in results),
        "runs": results,
        "shape": "3 variants x 2 prices, 2 translations, one POST per product, JWT auth",
        "server": "uvicorn, 1 worker process, httptools + uvloop",
        "client": (f"a separate process, {clients} keep-alive connections on one asyncio loop, pre-encoded requests"
                   if client == "raw" else f"a separate process, {clients} threads, httpx keep-alive"),
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--products", type=int, default=1200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="raw: pre-encoded requests on asyncio streams (cheap); httpx: threads with httpx")
    args = parser.parse_args()
    if args.url:
        result = run(args.url, args.products, args.clients, args.runs, client=args.client)
    else:
        with tempfile.TemporaryDirectory(prefix="rustok-bench-") as root:
            server = EmbeddedPostgres(Path(root) / "postgres", preferred_port=_free_port())
            info = server.start()
            try:
                ensure_database(info.url("postgres"), "bench")
                runner.upgrade(info.url("bench"))
                postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
                result = run(info.url("bench"), args.products, args.clients, args.runs, client=args.client,
                             postmaster=postmaster)
            finally:
                server.destroy()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201 - a command-line tool's report


if __name__ == "__main__":
    main()
