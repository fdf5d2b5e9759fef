"""`rustok replay` and `rustok lag` (issue 8).

``replay`` rebuilds read-model versions beside the live ones from a fresh snapshot of
the database (with ``--kafka``, from Debezium's topics: ``--from earliest``, or a
timestamp / ``topic:partition:offset,...`` with ``--on-top``, see ``rustok.replay.kafka``;
with ``--from-archive``, from the change archive) and switches the aliases once the new
versions caught up; Ctrl-C stops it and the same command resumes.
``lag`` shows every stage's distance from the source and the dead letters waiting.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from pipelines.model import DocType
from rustok.settings import get_settings

if TYPE_CHECKING:
    from rustok.replay import ReplayOptions

console = Console(stderr=True)
out = Console()

DocTypes = Annotated[list[str] | None, typer.Option(
    "--doc-type", help="product or content (repeatable); default both.")]


def replay(
    doc_type: DocTypes = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Rebuild only this tenant (UUID).")] = None,
    from_archive: Annotated[Path | None, typer.Option("--from-archive", help="Replay the change archive in DIR.",
                                                       file_okay=False)] = None,
    until: Annotated[datetime | None, typer.Option("--until", help="With --from-archive: state as of T.")] = None,
    switch: Annotated[bool, typer.Option("--switch/--no-switch",
                                         help="With --from-archive: make the rebuilt versions live.")] = False,
    grace: Annotated[float, typer.Option("--grace", min=0, help="Seconds before old versions are deleted.")] = 2.0,
    kafka: Annotated[bool, typer.Option("--kafka", help="Replay the Debezium topics of the Kafka runtime.")] = False,
    bootstrap: Annotated[str, typer.Option("--bootstrap", help="With --kafka: the broker (HOST:PORT).")]
    = "127.0.0.1:19092",
    start: Annotated[str, typer.Option(
        "--from", help="With --kafka: earliest, an ISO timestamp with zone, or topic:partition:offset,...")]
    = "earliest",
    on_top: Annotated[bool, typer.Option(
        "--on-top", help="With --kafka --from T|offsets: rebuild only the roots changed since then, on top of"
                         " a copy of the live version.")] = False,
    faust_app: Annotated[str, typer.Option("--faust-app", help="With --kafka: the live Faust worker's app id (`rustok up --kafka`"
                                           " runs <topic prefix>-pipelines).")]
    = "rustok-pipelines",
    faust_index: Annotated[Path | None, typer.Option(
        "--faust-index", file_okay=False, help="With --kafka: the Faust worker's Tantivy folder"
                                               " (default <state dir>/faust-index).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final report as JSON, no progress bars.")] = False,
) -> None:
    """Rebuild the read model into new index versions and switch to them atomically."""
    from rustok.cli import _database

    settings = get_settings()
    state_dir = settings.state_dir.resolve() / "pipeline"
    doc_types: tuple[DocType, ...] = tuple(doc_type or ("product", "content"))  # type: ignore[arg-type]
    url = _database().url
    if from_archive is not None:
        _replay_archive(url, from_archive, until, state_dir / "index", doc_types, tenant, switch, as_json)
        return
    if until is not None:
        raise typer.BadParameter("--until needs --from-archive (a snapshot replay rebuilds the present)")
    if kafka:
        from rustok.replay.kafka import KafkaReplayOptions

        kafka_options = KafkaReplayOptions(
            database_url=url, state_dir=settings.state_dir.resolve(), doc_types=doc_types, tenant=tenant,
            topic_prefix=settings.topic_prefix, grace_seconds=grace, bootstrap=bootstrap, start=start, on_top=on_top,
            live_group=faust_app, index_root=faust_index or settings.state_dir.resolve() / "faust-index")
        _run_replay(kafka_options, as_json)
        return
    if start != "earliest" or on_top:
        raise typer.BadParameter("--from and --on-top need --kafka (an embedded replay starts from a snapshot)")
    _replay_embedded(url, state_dir, settings.topic_prefix, doc_types, tenant, grace, as_json)


def _replay_embedded(url: str, state_dir: Path, topic_prefix: str, doc_types: tuple[DocType, ...],
                     tenant: str | None, grace: float, as_json: bool) -> None:
    from rustok.replay import ReplayOptions

    _run_replay(ReplayOptions(database_url=url, state_dir=state_dir, doc_types=doc_types, tenant=tenant,
                              topic_prefix=topic_prefix, grace_seconds=grace), as_json)


def _run_replay(options: ReplayOptions, as_json: bool) -> None:
    """Run an embedded or Kafka replay with progress bars (or silently for --json); Ctrl-C stops it."""
    from rustok.replay import EmbeddedReplay, ReplayError, ReplayInterrupted, RichProgress, SilentProgress
    from rustok.replay.kafka import KafkaReplay, KafkaReplayOptions

    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        progress = SilentProgress() if as_json else RichProgress(console)
        replay = (KafkaReplay(options, progress, stop) if isinstance(options, KafkaReplayOptions)
                  else EmbeddedReplay(options, progress, stop))
        report = replay.run()
    except ReplayInterrupted as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(130) from exc
    except ReplayError as exc:
        console.print(f"[red]replay failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _print_report(report.as_dict(), as_json)


def _replay_archive(url: str, archive: Path, until: datetime | None, index_dir: Path, doc_types: tuple[DocType, ...],
                    tenant: str | None, switch: bool, as_json: bool) -> None:
    from rustok.archive import replay_archive

    report = replay_archive(url, archive, until, index_dir, doc_types=doc_types, tenant=tenant, switch=switch)
    _print_report({"source": "archive", "events_read": report.events_read,
                   "documents_written": report.documents_written, "dead_letters": report.dead_letters,
                   "duration_s": round(report.duration_s, 3), "versions": report.versions}, as_json)


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print_json(orjson.dumps(report).decode())
        return
    table = Table(title="replay report")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in report.items():
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)


def lag(
    kafka: Annotated[str | None, typer.Option("--kafka", help="Also consumer-group lag from this bootstrap server.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per stage: source position, processed position, lag in bytes, events and seconds; DLQ size."""
    from rustok.cli import _database
    from rustok.replay.lag import read_lag

    report = read_lag(_database().url, kafka)
    if as_json:
        out.print_json(orjson.dumps(report.as_dict()).decode())
        return
    table = Table(title="lag")
    for column in ("stage", "name", "source", "processed", "bytes", "events", "seconds", "open DLQ"):
        table.add_column(column, justify="left" if column in ("stage", "name") else "right")
    for s in report.stages:
        table.add_row(s.stage, s.name, _cell(s.source_lsn), _cell(s.processed_lsn), _cell(s.bytes_behind),
                      _cell(s.events_behind), _cell(s.seconds_behind), _cell(s.dead_letters))
    out.print(table)
    out.print(f"open dead letters: {report.dead_letters_open}")


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add `replay` and `lag` to the `rustok` command."""
    app.command("replay")(replay)
    app.command("lag")(lag)
