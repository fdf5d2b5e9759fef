"""`rustok snapshot`: incremental re-snapshots through the signal table (issue 8).

Writes an ``execute-snapshot`` signal (Debezium's format, see :mod:`contracts.signals`)
for the chosen tables, optionally filtered to one tenant, and follows it to the end with a
progress bar (rows, rate, ETA) and a final report. Streaming never stops meanwhile.

* embedded (default): the running pipeline's connector reads the chunks and records its
  progress in ``rustok_snapshot_progress``, which this command watches;
* ``--kafka``: Debezium on Kafka Connect reads them; the command counts the incremental
  reads arriving on the tables' topics against the rows the filter matched when it asked.
  Debezium leaves out of a chunk the rows that changed while the chunk's window was open
  (their streamed change is newer), so the count can end below the total: the snapshot
  is taken as done once reads stop arriving for ``--idle`` seconds.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from contracts.signals import (
    PROGRESS_TABLE, InvalidSignal, request_incremental_snapshot, snapshot_request, table_of, tenant_conditions,
)

console = Console()


@dataclass
class Progressed:
    """One table's state as the watcher last saw it."""

    collection: str
    total: int
    done: int = 0
    finished: bool = False
    error: str | None = None


class RateColumn(ProgressColumn):
    """Rows per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- rows/s" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


def snapshot(
    table: Annotated[list[str], typer.Option("--table", "-t", help="Table to re-snapshot (repeatable).")],
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's rows (its slug).")] = None,
    kafka: Annotated[bool, typer.Option("--kafka", help="Debezium on the local Kafka runtime does the reading.")]
    = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Give up watching after this many seconds.")] = 3600.0,
    idle: Annotated[float, typer.Option("--idle", help="--kafka: done when no read arrived for this long.")] = 10.0,
    bootstrap: Annotated[str | None, typer.Option(
        "--bootstrap", help="--kafka: bootstrap servers; defaults to the local Kafka runtime's.")] = None,
    start_timeout: Annotated[float, typer.Option(
        "--start-timeout", help="Stop watching if no connector has picked the signal up by then.")] = 30.0,
) -> None:
    """Re-read tables (or one tenant's rows of them) while streaming goes on, with progress."""
    from rustok.cli import _database  # the composition root owns provisioning

    url = _database().url
    conditions = _conditions(url, table, tenant)
    with psycopg.connect(url) as conn:
        totals = _totals(conn, table, conditions)
        counter = _KafkaCounter(totals, bootstrap) if kafka else None
        signal = request_incremental_snapshot(conn, table, conditions=conditions)
    scope = f"tenant {tenant}" if tenant else "all tenants"
    console.print(f"requested incremental snapshot [bold]{signal}[/bold] of {', '.join(totals)} ({scope})")
    if counter is not None:
        read = counter.read
        states = [Progressed(c, n) for c, n in totals.items()]
    else:
        states = []
        read = _embedded_reader(url, signal)
    started = time.monotonic()
    states = _follow(read, states, timeout, idle if kafka else None, start_timeout)
    _report(states, time.monotonic() - started)
    if any(s.error for s in states) or not all(s.finished for s in states):
        raise typer.Exit(code=1)


def _conditions(url: str, tables: Sequence[str], tenant: str | None) -> dict[str, str] | None:
    try:
        snapshot_request(tables)
        if tenant is None:
            return None
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT id FROM tenants WHERE slug = %s", (tenant,)).fetchone()
        if row is None:
            console.print(f"[red]no tenant with slug {tenant!r}[/red]; nothing requested")
            raise typer.Exit(code=2)
        return tenant_conditions(tables, str(row[0]))
    except InvalidSignal as exc:
        console.print(f"[red]{exc}[/red]; nothing requested")
        raise typer.Exit(code=2) from exc


def _totals(conn: psycopg.Connection[Any], tables: Sequence[str], conditions: dict[str, str] | None
            ) -> dict[str, int]:
    totals: dict[str, int] = {}
    for collection in snapshot_request(tables, conditions).collections:
        condition = (conditions or {}).get(collection, "TRUE")
        row = conn.execute(f"SELECT count(*) FROM {table_of(collection)} WHERE {condition}").fetchone()
        totals[collection] = 0 if row is None else int(row[0])
    return totals


Reader = Callable[[], list[Progressed]]


def _embedded_reader(url: str, signal: str) -> Reader:
    def read() -> list[Progressed]:
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                f"SELECT collection, rows_total, rows_done, finished_at IS NOT NULL, error FROM {PROGRESS_TABLE}"
                " WHERE signal_id = %s ORDER BY started_at, collection", (signal,)).fetchall()
        return [Progressed(str(c), int(t), int(d), bool(f), e) for c, t, d, f, e in rows]
    return read


def _follow(read: Reader, states: list[Progressed], timeout: float, idle: float | None,
            start_timeout: float) -> list[Progressed]:
    """Show progress until every table is finished (or idle long enough), or ``timeout``;
    give up after ``start_timeout`` if no connector has started on the signal."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    deadline = time.monotonic() + timeout
    last_change, last_done = time.monotonic(), -1
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console) as bar:
        while time.monotonic() < deadline:
            states = read() or states
            for state in states:
                if state.collection not in tasks:
                    tasks[state.collection] = bar.add_task(table_of(state.collection), total=max(state.total, 1))
                bar.update(tasks[state.collection], completed=min(state.done, max(state.total, 1)),
                           total=max(state.total, state.done, 1))
            done = sum(s.done for s in states)
            if done != last_done:
                last_change, last_done = time.monotonic(), done
            if idle is not None and done > 0 and time.monotonic() - last_change >= idle:
                for state in states:
                    state.finished = True
            if states and all(s.finished for s in states):
                break
            if not states and time.monotonic() - last_change >= start_timeout:
                break
            time.sleep(0.25)
    if not states:
        console.print("[yellow]no connector has picked the signal up yet: is the pipeline running (rustok up)?"
                      " The signal stays in the stream; the pipeline runs it when it next streams.[/yellow]")
    return states


def _report(states: list[Progressed], elapsed: float) -> None:
    table = Table("table", "rows read", "rows at request", "state", title=f"incremental snapshot ({elapsed:.1f}s)")
    for s in states:
        state = "done" if s.finished else "[yellow]unfinished[/yellow]"
        if s.error:
            state = f"[red]failed: {s.error}[/red]"
        table.add_row(table_of(s.collection), f"{s.done:,}", f"{s.total:,}", state)
    console.print(table)
    rows = sum(s.done for s in states)
    console.print(f"{rows:,} rows in {elapsed:.1f}s ({rows / elapsed if elapsed > 0 else 0:,.0f} rows/s)")


class _KafkaCounter:
    """Counts Debezium's incremental reads on the tables' topics from their current end."""

    def __init__(self, totals: dict[str, int], bootstrap: str | None) -> None:
        with warnings.catch_warnings():
            # kafka-python still uses importlib.resources' deprecated read_text/open_text.
            warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
            from kafka import KafkaConsumer, TopicPartition

        from connectors.kafka_runtime import KafkaRuntime
        from contracts.topics import table_topic
        from rustok.settings import get_settings

        settings = get_settings()
        bootstrap = bootstrap or KafkaRuntime(settings.state_dir / "kafka").bootstrap_servers
        self._states = {c: Progressed(c, n) for c, n in totals.items()}
        self._topics = {table_topic(table_of(c), prefix=settings.topic_prefix): c for c in totals}
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = [TopicPartition(topic, p) for topic in self._topics
                      for p in sorted(self._consumer.partitions_for_topic(topic) or {0})]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            self._consumer.position(partition)  # fix the start before the signal is written

    def read(self) -> list[Progressed]:
        for batch in self._consumer.poll(timeout_ms=200).values():
            for message in batch:
                value = _json(message.value)
                if isinstance(value, dict) and (value.get("source") or {}).get("snapshot") == "incremental":
                    self._states[self._topics[message.topic]].done += 1
        return list(self._states.values())


def _json(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def register(app: typer.Typer) -> None:
    """Add ``rustok snapshot`` to the `rustok` command."""
    app.command("snapshot")(snapshot)
