"""Progress of a long replay: a port, a silent implementation and a rich one.

The replay reports steps (``snapshot``, ``catch-up``, ``handover``, ``cleanup``) with a
total when one is known (snapshot rows from ``pg_class.reltuples``, WAL bytes to the
catch-up target), and advances them; the rich implementation shows rate and ETA.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ReplayProgress(Protocol):
    def step(self, name: str, total: float | None = None) -> None:
        """Start step ``name`` (the previous one is done)."""

    def update(self, completed: float, total: float | None = None) -> None:
        """Set how much of the current step is done."""

    def close(self) -> None: ...


class SilentProgress:
    """For tests and ``--json``: remembers the steps, shows nothing."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.completed = 0.0

    def step(self, name: str, total: float | None = None) -> None:
        self.steps.append(name)
        self.completed = 0.0

    def update(self, completed: float, total: float | None = None) -> None:
        self.completed = completed

    def close(self) -> None:
        return None


class RichProgress:
    """One bar per step with rate and ETA (rich computes both from the updates)."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("[cyan]{task.fields[rate]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
        )
        self._task: TaskID | None = None
        self._progress.start()

    def step(self, name: str, total: float | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, total=task.completed)
        self._task = self._progress.add_task(name, total=total, rate="")

    def update(self, completed: float, total: float | None = None) -> None:
        if self._task is None:
            return
        task = self._progress.tasks[self._task]
        speed = task.speed
        rate = "" if speed is None else f"{speed:,.0f}/s"
        if total is not None:
            self._progress.update(self._task, total=total)
        self._progress.update(self._task, completed=completed, rate=rate)

    def close(self) -> None:
        self._progress.stop()
