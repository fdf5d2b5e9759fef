"""Errors of the pipelines package, under one root.

Tree (add new classes under the branch they belong to)::

    PipelineError
    ├── InvalidEvent          a change event the core cannot apply: it fails its row
    │                         contract, lacks a source LSN, or crashed a projector;
    │                         the runtime sends it to the DLQ and goes on
    └── StateStoreError       the state store failed (I/O, corrupt file); the batch
                              must be retried from the last checkpoint, never DLQ'd
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.envelope import ChangeEvent


class PipelineError(Exception):
    """Root of every error raised by the pipelines package."""


class InvalidEvent(PipelineError):
    """One change event that cannot be projected; carries the event and the reason.

    Parameters:
        event: the offending change event, as received.
        reason: a human-readable cause (contract field paths, or the projector crash).
    """

    def __init__(self, event: ChangeEvent, reason: str) -> None:
        super().__init__(f"{event.table} op={event.op} lsn={event.source.lsn}: {reason}")
        self.event = event
        self.reason = reason


class StateStoreError(PipelineError):
    """The state store could not read or write its state."""
