"""`rustok dlq ...`: inspect and retry change events the pipeline could not project.

The embedded runtime keeps dead letters in the ``dead_letters`` table. ``retry`` queues
letters; the running pipeline feeds them through the projection core again within a
few seconds (``retried`` on success, back to ``open`` with one more attempt if they
still fail). ``drop`` closes letters that will never pass (kept for the record).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.runtime.dead_letters import PostgresDeadLetters, Status

dlq_app = typer.Typer(help="Dead letters: change events the pipeline could not project.", no_args_is_help=True)
console = Console()

Pipeline = Annotated[str, typer.Option("--pipeline", help="Which pipeline's letters.")]


def _letters() -> PostgresDeadLetters:
    from rustok.cli import _database  # the composition root owns provisioning

    return PostgresDeadLetters(_database().url)


@dlq_app.command("list")
def list_letters(
    pipeline: Pipeline = "embedded",
    status: Annotated[str, typer.Option("--status", help="open, queued, retried, dropped or all.")] = "open",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    payload: Annotated[bool, typer.Option("--payload", help="Show each original payload in full.")] = False,
) -> None:
    """List dead letters, oldest first."""
    wanted = _status(status)
    letters = _letters().list(pipeline, wanted, limit)
    table = Table(title=f"dead letters of '{pipeline}' ({status})")
    for column in ("id", "status", "attempts", "stage", "topic", "lsn", "error", "reason"):
        table.add_column(column)
    for letter in letters:
        table.add_row(str(letter.id), letter.status, str(letter.attempts), letter.stage, letter.topic,
                      "" if letter.source_lsn is None else str(letter.source_lsn), letter.error_type,
                      letter.reason[:200])
    console.print(table)
    if payload:
        for letter in letters:
            console.print(f"[bold]#{letter.id}[/bold] key={letter.event_key}")
            console.print_json(letter.payload)


@dlq_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Letter ids; omit with --all.")] = None,
    all_open: Annotated[bool, typer.Option("--all", help="Queue every open letter of the pipeline.")] = False,
    pipeline: Pipeline = "embedded",
) -> None:
    """Queue letters for the running pipeline to project again."""
    chosen = _chosen(ids, all_open, pipeline)
    _letters().mark(chosen, "queued")
    console.print(f"queued {len(chosen)} letter(s); the running pipeline retries them within seconds")


@dlq_app.command("drop")
def drop(
    ids: Annotated[list[int] | None, typer.Argument(help="Letter ids; omit with --all.")] = None,
    all_open: Annotated[bool, typer.Option("--all", help="Drop every open letter of the pipeline.")] = False,
    pipeline: Pipeline = "embedded",
) -> None:
    """Close letters that will never pass (they stay listed under --status dropped)."""
    chosen = _chosen(ids, all_open, pipeline)
    _letters().mark(chosen, "dropped")
    console.print(f"dropped {len(chosen)} letter(s)")


def _chosen(ids: list[int] | None, all_open: bool, pipeline: str) -> list[int]:
    if bool(ids) == all_open:
        raise typer.BadParameter("give letter ids or --all (not both)")
    if ids:
        return ids
    return [letter.id for letter in _letters().list(pipeline, "open", limit=100_000) if letter.id is not None]


def _status(text: str) -> Status | None:
    choices: dict[str, Status | None] = {"open": "open", "queued": "queued", "retried": "retried",
                                         "dropped": "dropped", "all": None}
    if text not in choices:
        raise typer.BadParameter(f"unknown status {text!r}; one of {', '.join(choices)}")
    return choices[text]
