"""Rich progress bars for the archive's long operations (CLI only: they draw on stderr)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_console = Console(stderr=True)


def _rate() -> TextColumn:
    return TextColumn("{task.fields[rate]}")


@contextmanager
def counting_bar(description: str) -> Iterator[Callable[[int], None]]:
    """A bar without a known total: events so far and their rate. Yields ``advance(n)``."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} events"),
               _rate(), TimeElapsedColumn())
    with Progress(*columns, console=_console) as progress:
        task = progress.add_task(description, total=None, rate="")

        def advance(events: int) -> None:
            progress.advance(task, events)
            speed = progress.tasks[task].speed
            progress.update(task, rate="" if speed is None else f"{speed:,.0f}/s")

        yield advance


@contextmanager
def total_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A bar over a known total, with rate and ETA. Yields ``update(done, total)``."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               _rate(), TimeRemainingColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_console) as progress:
        task = progress.add_task(description, total=None, rate="")

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            speed = progress.tasks[task].speed
            progress.update(task, rate="" if speed is None else f"{speed:,.0f} events/s")

        yield update


@contextmanager
def estimated_bar(description: str, expected: int | None) -> Iterator[Callable[[int], None]]:
    """A bar over an estimated total (rate and ETA; the total grows if the estimate was
    short), or a counting bar when there is no estimate. Yields ``advance(n)``."""
    if expected is None:
        with counting_bar(description) as advance:
            yield advance
        return
    with total_bar(description) as update:
        done = 0
        update(0, max(expected, 1))

        def advance(events: int) -> None:
            nonlocal done
            done += events
            update(done, max(expected, done))

        yield advance
