"""`rustok archive DIR`: change events to hive-partitioned Parquet (issue 8).

The embedded source reads a replication slot of its own (``rustok_archive``; the first
run snapshots the database); ``--kafka`` reads the Debezium topics as consumer group
``rustok-archive``. By default it stops once caught up with where the source was at
start; ``--follow`` keeps going until Ctrl-C. Rebuilding from an archive is
``rustok replay --from-archive DIR --until T`` (``rustok.archive.replay_archive``).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from rustok.settings import get_settings

if TYPE_CHECKING:
    from rustok.archive import ArchiveRunReport

console = Console()


def archive(
    directory: Annotated[Path, typer.Argument(help="Archive directory (created if missing; resumed if not).")],
    kafka: Annotated[bool, typer.Option("--kafka", help="Read the Debezium topics instead of a slot.")] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Keep archiving until Ctrl-C.")] = False,
    until_caught_up: Annotated[bool, typer.Option(
        "--until-caught-up", help="Stop once caught up with the source (the default).")] = False,
    bootstrap_servers: Annotated[str, typer.Option("--bootstrap-servers", help="Kafka brokers, with --kafka.")]
    = "127.0.0.1:9092",
    slot: Annotated[str, typer.Option("--slot", help="The archive's replication slot.")] = "rustok_archive",
) -> None:
    """Write the change events to Parquet, partitioned by table and commit date."""
    # Imported here: pyarrow and the connector are not needed by the other commands.
    from connectors.embedded import EmbeddedConnectorError
    from rustok.archive import ArchiveError, EmbeddedArchiveOptions, archive_embedded
    from rustok.archive.kafka import KafkaArchiveOptions, archive_kafka
    from rustok.archive.embedded import expected_events
    from rustok.archive.progress import counting_bar, estimated_bar

    if follow and until_caught_up:
        raise typer.BadParameter("--follow and --until-caught-up exclude each other")
    settings = get_settings()
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if kafka:
            with counting_bar(f"archiving into {directory}") as advance:
                report = archive_kafka(KafkaArchiveOptions(bootstrap_servers, directory, settings.topic_prefix,
                                                           follow=follow), advance, stop)
        else:
            from rustok.cli import _database

            url = _database().url
            options = EmbeddedArchiveOptions(url, directory, slot, settings.topic_prefix, follow=follow)
            with estimated_bar(f"archiving into {directory}", None if follow else expected_events(url, slot)) as advance:
                report = archive_embedded(options, advance, stop)
    except (ArchiveError, EmbeddedConnectorError) as exc:
        console.print(f"[red]archive failed:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    _print_report(directory, report)


def _print_report(directory: Path, report: ArchiveRunReport) -> None:
    table = Table(title=f"archived into {directory}")
    table.add_column("table")
    table.add_column("events", justify="right")
    for name, count in report.per_table.items():
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{report.events:,}[/bold]")
    console.print(table)
    rate = report.events / report.duration_s if report.duration_s > 0 else 0.0
    console.print(f"parts written: {report.parts}; not change events (skipped): {report.skipped}; "
                  f"duration: {report.duration_s:.1f} s ({rate:,.0f} events/s)"
                  + ("" if report.durable_lsn is None else f"; durable up to LSN {report.durable_lsn}"))


def register(app: typer.Typer) -> None:
    """Add ``rustok archive`` to the `rustok` command."""
    app.command("archive")(archive)
