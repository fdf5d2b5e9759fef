"""Write API throughput: product creations per second over HTTP against one server process.

Usage: .venv/bin/python -m bench.write_api_throughput [--url postgresql://...] [--products 3000] [--clients 4]
Writes bench/results/write_api_throughput.json.

Each product has 3 variants, 2 prices per variant (EUR, USD) and 2 translations (en, de),
sent as one POST /v1/products with a JWT access token. The server is uvicorn with one
worker in a subprocess; ``clients`` threads in this process keep requests in flight with
httpx (keep-alive). Without ``--url`` an embedded PostgreSQL is started in a temp dir.
The machine is shared: its load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import json
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
               "--log-level", "warning", "--no-access-log"]
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


def run(database_url: str, products: int, clients: int) -> dict[str, Any]:
    port = _free_port()
    server = _start_server(database_url, port, pool=clients + 2)
    base = f"http://127.0.0.1:{port}"
    try:
        token = _login(base)
        _drive(base, token, 10_000_000, 100, [], [])  # warm-up: imports, pools, caches
        latencies: list[float] = []
        errors: list[str] = []
        per_client = products // clients
        threads = [threading.Thread(target=_drive, args=(base, token, n * per_client, per_client, latencies, errors))
                   for n in range(clients)]
        load_before = os.getloadavg()
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(10)
    ordered = sorted(latencies)
    return {
        "products": len(latencies), "clients": clients, "errors": len(errors), "first_errors": errors[:3],
        "seconds": round(elapsed, 3), "creations_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {"median": round(statistics.median(ordered) * 1000, 2),
                       "p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)},
        "shape": "3 variants x 2 prices, 2 translations, one POST per product, JWT auth",
        "server": "uvicorn, 1 worker process (h11, no uvloop/httptools installed)",
        "load_average_before": load_before, "load_average_after": load_after,
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    if args.url:
        result = run(args.url, args.products, args.clients)
    else:
        with tempfile.TemporaryDirectory(prefix="rustok-bench-") as root:
            server = EmbeddedPostgres(Path(root) / "postgres", preferred_port=_free_port())
            info = server.start()
            try:
                ensure_database(info.url("postgres"), "bench")
                runner.upgrade(info.url("bench"))
                result = run(info.url("bench"), args.products, args.clients)
            finally:
                server.destroy()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201 - a command-line tool's report


if __name__ == "__main__":
    main()
