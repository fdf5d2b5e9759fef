"""What the JSONB read tables cost PostgreSQL per document: the rows, the stored tsvector, the indexes.

A rebuild's ``postgres_cpu_seconds`` (``bench.pipeline_rebuild``) is mostly the read tables'
writes. This bench says how much of that the tables' design asks for, whoever writes them. It
rebuilds a clone of a generated catalogue with the embedded pipeline, then copies each read
table's documents (``INSERT ... SELECT``, one statement, in the server) into three scratch
tables beside it and reads the backend's CPU time (``/proc``) around each copy:

* ``rows``: the same columns, with no generated tsvector and no index (JSONB input, TOAST, WAL);
* ``search_vector``: the tsvector generated in the row's text search configuration, no index;
* ``indexes``: every index of the read table, kept up as the rows go in (what the sink's COPY
  pays).

Then it builds each index on the second table after the load, as a bulk load could. Results
are CPU microseconds per document, to ``bench/results/read_table_cost.json``.

    .venv/bin/python -m bench.read_table_cost                   # 10k products
    .venv/bin/python -m bench.read_table_cost --small           # 300 products
    .venv/bin/python -m bench.read_table_cost --admin-url URL --template NAME --manifest m.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import pipeline_rebuild
from bench.generator import Manifest
from bench.procstat import cpu_seconds, local_postmaster
from rustok.postgres import drop_database

RESULTS = Path(__file__).parent / "results"
READ_TABLES = ("index_products", "index_content")
SLOT = "bench_read_table_cost"


def rebuild(database_url: str, state_dir: Path, manifest: Manifest) -> None:
    """Fill the read tables of ``database_url`` with the embedded pipeline's snapshot (the
    rebuild bench's run, which checks every generated document is there)."""
    pipeline_rebuild.run_once(database_url, state_dir, SLOT, (manifest.product_documents, manifest.content_documents))
    pipeline_rebuild.drop_slot(database_url, SLOT)


class Backend:
    """One connection and the CPU its backend spends per statement (wall time when the
    server is not on this machine)."""

    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        row = self.conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        pid = int(str(row[0]))
        self.clock: Callable[[], float] = lambda: cpu_seconds(pid)
        self.measures = "backend_cpu"
        if local_postmaster(database_url) is None:  # the pid is not a process of this machine
            self.clock, self.measures = time.perf_counter, "wall"

    def seconds(self, statement: sql.SQL | sql.Composed) -> float:
        before = self.clock()
        self.conn.execute(statement)
        return self.clock() - before

    def close(self) -> None:
        self.conn.close()


def table_cost(backend: Backend, table: str) -> dict[str, Any]:
    conn = backend.conn
    columns = [str(r[0]) for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]
    row = conn.execute(sql.SQL("SELECT count(*), coalesce(avg(pg_column_size(document)), 0) FROM {}")
                       .format(sql.Identifier(table))).fetchone()
    assert row is not None
    documents, stored_bytes = int(str(row[0])), float(str(row[1]))
    if documents == 0:
        raise SystemExit(f"{table} is empty: nothing to measure")
    source, names = sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    scratch = {step: sql.Identifier(f"_cost_{step}_{table}") for step in ("rows", "search_vector", "indexes")}
    likes = {"rows": "INCLUDING DEFAULTS", "search_vector": "INCLUDING DEFAULTS INCLUDING GENERATED",
             "indexes": "INCLUDING ALL"}
    indexes = [(str(r[0]), str(r[1])) for r in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s ORDER BY indexname",
        (table,))]
    seconds: dict[str, float] = {}
    built: dict[str, float] = {}
    try:
        for step, target in scratch.items():
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} " + likes[step] + ")").format(target, source))
            conn.execute("CHECKPOINT")  # the step before leaves no dirty buffers for this one to write out
            seconds[step] = backend.seconds(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target, names, names, source))
        for name, definition in indexes:  # the same index (kind, columns, predicate) on the scratch table
            on = f"INDEX {name} ON public.{table} "
            assert on in definition, definition
            statement = definition.replace(on, f'INDEX "_cost_{name}" ON "_cost_search_vector_{table}" ', 1)
            built[name] = backend.seconds(sql.SQL(statement))  # built from the catalogue
    finally:
        for target in scratch.values():
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))

    def per_document(value: float) -> float:
        return round(value * 1e6 / documents, 1)

    return {
        "documents": documents,
        "mean_stored_document_bytes": round(stored_bytes),
        "us_per_document": {
            "rows": per_document(seconds["rows"]),
            "search_vector": per_document(seconds["search_vector"] - seconds["rows"]),
            "indexes": per_document(seconds["indexes"] - seconds["search_vector"]),
            "total": per_document(seconds["indexes"]),
        },
        "index_built_after_load_us_per_document": {name: per_document(s) for name, s in built.items()},
        "seconds": {step: round(s, 3) for step, s in seconds.items()},
    }


def measure(database_url: str) -> dict[str, Any]:
    backend = Backend(database_url)
    try:
        tables = {table: table_cost(backend, table) for table in READ_TABLES}
    finally:
        backend.close()
    documents = sum(t["documents"] for t in tables.values())
    seconds = sum(t["seconds"]["indexes"] for t in tables.values())  # each table's full copy
    return {"measures": backend.measures, "tables": tables,
            "us_per_document": round(seconds * 1e6 / documents, 1), "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--small", action="store_true", help="300 products (a smoke test)")
    parser.add_argument("--port", type=int, default=55872)
    parser.add_argument("--admin-url", help="use this PostgreSQL server (its 'postgres' database) instead of "
                                            "starting one; it needs wal_level=logical")
    parser.add_argument("--template", help="with --admin-url: an already generated template database to clone "
                                           "(its manifest is read from --manifest)")
    parser.add_argument("--manifest", type=Path, help="the generator's manifest JSON of --template")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    products = 300 if args.small else args.products
    out = args.out or RESULTS / ("read_table_cost_small.json" if args.small else "read_table_cost.json")
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-read-cost-"))
    try:
        with pipeline_rebuild.bench_server(work, args.port, args.admin_url) as admin_url:
            if args.template and args.manifest:
                template, manifest = args.template, pipeline_rebuild.manifest_from(args.manifest)
            else:
                template, manifest = pipeline_rebuild.prepare_template(admin_url, products)
            name = f"{pipeline_rebuild.PREFIX}_read_cost"
            url = pipeline_rebuild.clone(admin_url, template, name)
            try:
                rebuild(url, work / "state", manifest)
                measured = measure(url)
            finally:
                drop_database(admin_url, name)
                if not args.template:
                    drop_database(admin_url, template)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "read_table_cost", "label": args.label, "products": manifest.products,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        **measured,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
