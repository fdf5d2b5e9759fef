"""One command for every benchmark scenario: JSON results and a PNG chart per scenario.

    .venv/bin/python -m bench.run                                   # 10k products, every scenario
    .venv/bin/python -m bench.run --size 100k --scenarios rebuild,search
    .venv/bin/python -m bench.run --quick --size 200                # the smoke run (seconds per scenario)
    .venv/bin/python -m bench.run --kafka                           # with Debezium and Faust beside the embedded path
    .venv/bin/python -m bench.run --size 1m --scenarios scaling --parts DIR   # hours: resumable

Writes ``<scenario>.json`` (parameters, machine with load averages and git commit,
results, target, checks, ``met``) and ``<scenario>.png`` into ``--out``, then prints a
summary table. Kafka-dependent parts run only with ``--kafka`` (they start a local
broker and Kafka Connect); without it they are reported as skipped, with the reason.
A scenario that fails is reported as failed and the others still run; the exit code is
1 if any failed. Results never gate anything: a target not met is a finding, not an error.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench import report
from bench.generator import parse_size
from bench.pipeline_rebuild import bench_server
from bench.scenarios import SCENARIOS, Context

DEFAULT_OUT = Path(__file__).parent / "results" / "harness"
console = Console()


def main(
    size: Annotated[str, typer.Option(help="products: 1k, 10k, 100k, 1m or a number")] = "10k",
    scenarios: Annotated[str, typer.Option(help="comma-separated: " + ",".join(SCENARIOS))] = ",".join(SCENARIOS),
    quick: Annotated[bool, typer.Option(help="durations of a second or two (a smoke run)")] = False,
    kafka: Annotated[bool, typer.Option(help="also run Debezium capture and Faust rebuild/freshness")] = False,
    out: Annotated[Path, typer.Option(help="folder for <scenario>.json and <scenario>.png")] = DEFAULT_OUT,
    runs: Annotated[int, typer.Option(help="rebuild runs per measurement (median)")] = 1,
    seed: Annotated[int, typer.Option(help="the generator's seed")] = 42,
    port: Annotated[int, typer.Option(help="preferred port of the harness's PostgreSQL")] = 55891,
    admin_url: Annotated[str | None, typer.Option(help="use this PostgreSQL server (its 'postgres' database, "
                                                       "wal_level=logical) instead of starting one")] = None,
    search_data: Annotated[Path | None, typer.Option(help="keep the search scenario's loaded data here "
                                                          "(search-<N>/ per size) and reuse it next time")] = None,
    parts: Annotated[Path | None, typer.Option(help="keep each size's rebuild and search measurements here "
                                                    "(rebuild-<N>.json, search-<N>.json) and reuse them next "
                                                    "time: a long scaling run resumes where it stopped")] = None,
) -> None:
    chosen = [name.strip() for name in scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    products = parse_size(size)
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="rustok-bench-harness-"))
    documents: list[dict[str, Any]] = []
    failed: list[str] = []
    try:
        with bench_server(work, port, admin_url) as server_url:
            ctx = Context(products, quick, kafka, work, server_url, runs=runs, seed=seed, search_data=search_data,
                          parts=parts)
            try:
                for name in chosen:
                    document = _run_one(name, ctx, out)
                    if document is None:
                        failed.append(name)
                    else:
                        documents.append(document)
            finally:
                ctx.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print_summary(documents, failed, out)
    if failed:
        raise typer.Exit(1)


def _run_one(name: str, ctx: Context, out: Path) -> dict[str, Any] | None:
    console.print(f"[bold]{name}[/bold] at {ctx.size} products{' (quick)' if ctx.quick else ''} …")
    started, load_before = time.time(), report.load_average()
    try:
        outcome = SCENARIOS[name](ctx)
    except Exception:  # noqa: BLE001 - one broken scenario must not hide the others' results
        console.print(f"[red]{name} failed[/red]\n{traceback.format_exc()}")
        return None
    document = report.write(outcome, out, started, load_before)
    console.print(f"  {outcome.headline} → met: {outcome.met} ({document['seconds']} s)")
    return document


def _print_summary(documents: list[dict[str, Any]], failed: list[str], out: Path) -> None:
    table = Table(title=f"RusToK benchmarks ({out})")
    for column in ("scenario", "result", "target", "met"):
        table.add_column(column, overflow="fold")
    for row in report.summary_rows(documents):
        table.add_row(*row)
    for name in failed:
        table.add_row(name, "[red]failed[/red] (see the log above)", "", "")
    console.print(table)


def cli() -> None:
    typer.run(main)


if __name__ == "__main__":
    cli()
