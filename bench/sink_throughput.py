"""Documents per second into each sink: N products in 3 locales, in batches.

Usage: .venv/bin/python -m bench.sink_throughput [--products 10000] [--batch 500]
           [--database-url URL]   (default: a throwaway embedded PostgreSQL)
Writes bench/results/sink_throughput.json. Each sink gets a fresh target, then a
second pass of the same roots with a higher version (replacing every document).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from contracts.ids import new_id
from migrations import runner
from pipelines.model import RootDocuments
from pipelines.sinks.base import Sink
from pipelines.sinks.postgres import PostgresSink
from pipelines.sinks.tantivy_sink import TantivySink
from rustok.postgres import EmbeddedPostgres, ensure_database
from tests.integration.sinks.factory import product_emission

RESULTS = Path(__file__).parent / "results" / "sink_throughput.json"


def emissions(products: int, version: int) -> list[RootDocuments]:
    tenant = new_id()
    out = []
    for i in range(products):
        out.append(product_emission(tenant, _IDS[i], version, handle=f"product-{i}", tags=["linen", f"t{i % 50}"],
                                    categories=[["men", f"c{i % 20}"]], prices={"EUR": (1000 + i, 2000 + i)},
                                    description="Soft linen shirt, washed for comfort. " * 5))
    return out


_IDS: list = []  # type: ignore[type-arg]


def run(sink: Sink, batches: list[list[RootDocuments]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        sink.write(batch)
        sink.flush()
    return time.perf_counter() - started


def measure(make: Callable[[], Sink], products: int, batch: int) -> dict[str, float]:
    docs = products * 3
    result: dict[str, float] = {}
    sink = make()
    sink.setup()
    for label, version in (("insert", 1), ("replace", 2)):
        all_emissions = emissions(products, version)
        batches = [all_emissions[i:i + batch] for i in range(0, len(all_emissions), batch)]
        seconds = run(sink, batches)
        result[f"{label}_seconds"] = round(seconds, 3)
        result[f"{label}_docs_per_second"] = round(docs / seconds)
    sink.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    _IDS.extend(new_id() for _ in range(args.products))
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-sinks-"))
    server = None
    try:
        url = args.database_url
        if url is None:
            server = EmbeddedPostgres(work / "pg", preferred_port=55499)
            info = server.start()
            ensure_database(info.url("postgres"), "bench_sinks")
            url = info.url("bench_sinks")
            runner.upgrade(url)
        results = {
            "postgres": measure(lambda: PostgresSink(url, doc_types=("product",)), args.products, args.batch),
            "tantivy": measure(lambda: TantivySink(work / "tantivy", doc_types=("product",)), args.products, args.batch),
        }
    finally:
        if server is not None:
            server.destroy()
        shutil.rmtree(work, ignore_errors=True)
    report = {"products": args.products, "locales": 3, "documents": args.products * 3, "batch_roots": args.batch,
              "machine": platform.platform(), "sinks": results,
              "meilisearch": "not measured: no server on this machine"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
