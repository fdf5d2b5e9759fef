"""`rustok pipeline ...`: run the embedded pipeline in the foreground, and see how it is doing."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from connectors.embedded import SlotError, read_slot_lag
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.settings import RustokSettings, get_settings

pipeline_app = typer.Typer(help="The embedded pipeline: change stream → read tables and Tantivy.",
                           no_args_is_help=True)
console = Console()


def pipeline_options(settings: RustokSettings, database_url: str) -> PipelineOptions:
    return PipelineOptions(database_url=database_url, state_dir=settings.state_dir.resolve() / "pipeline",
                           topic_prefix=settings.topic_prefix,
                           state_memory_rows=settings.pipeline_state_memory_rows)


@pipeline_app.command("run")
def run() -> None:
    """Run until Ctrl-C or SIGTERM; then flush, commit and confirm the position."""
    from rustok.cli import _database

    settings = get_settings()
    pipeline = EmbeddedPipeline(pipeline_options(settings, _database().url))
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    console.print("pipeline: starting (a first start snapshots the database)")
    pipeline.start()
    console.print(f"pipeline: streaming from slot {pipeline.options.slot_name!r}; index versions "
                  f"{pipeline.index_versions}")
    while not stop.wait(0.5):
        if pipeline.failed is not None:
            break
    pipeline.stop()
    console.print("pipeline: stopped; position confirmed")


@pipeline_app.command("status")
def status() -> None:
    """Checkpoint, slot lag and dead letters of the embedded pipeline."""
    from rustok.cli import _database

    settings = get_settings()
    options = pipeline_options(settings, _database().url)
    with psycopg.connect(options.database_url) as conn:
        checkpoint = conn.execute(
            "SELECT applied_commit_lsn, applied_commit_at, events_applied, updated_at FROM pipeline_checkpoints"
            " WHERE pipeline = %s", (options.pipeline,)).fetchone()
        open_letters = conn.execute("SELECT count(*) FROM dead_letters WHERE pipeline = %s AND status = 'open'",
                                    (options.pipeline,)).fetchone()
        try:
            lag: object = read_slot_lag(conn, options.slot_name, None)
        except SlotError:
            lag = "no slot yet"
    table = Table(title=f"pipeline '{options.pipeline}'")
    table.add_column("what")
    table.add_column("value")
    if checkpoint is None:
        table.add_row("checkpoint", "none yet (never ran)")
    else:
        table.add_row("applied commit LSN", str(checkpoint[0]))
        table.add_row("last commit applied at", str(checkpoint[1]))
        table.add_row("events applied", str(checkpoint[2]))
        table.add_row("checkpoint written", str(checkpoint[3]))
    table.add_row("slot lag", str(lag))
    table.add_row("open dead letters", str(open_letters[0] if open_letters else 0))
    console.print(table)
