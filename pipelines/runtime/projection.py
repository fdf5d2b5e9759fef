"""The projection core as the runners drive it: a Projector over a state store that also
keeps the source position the state has absorbed, committed with the state itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contracts.envelope import ChangeEvent
from pipelines.core import Projector
from pipelines.model import RootDocuments
from pipelines.state.port import StateStore

POSITION_MARK = "runtime:source_position"


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event the core refused: its index in the batch, the stage and the error."""

    index: int
    stage: str
    error: Exception


class CoreProjection:
    """Parameters:
    open_store: opens the state store (again after :meth:`reset`, which must leave it empty).
    wipe_store: removes the store's durable data (called with the store closed).
    """

    def __init__(self, open_store: Callable[[], StateStore], wipe_store: Callable[[], None]) -> None:
        self._open = open_store
        self._wipe = wipe_store
        self._store = open_store()
        self._projector = Projector(self._store)

    def position(self) -> int | None:
        """The source position (commit LSN) whose events the committed state holds."""
        return self._store.mark(POSITION_MARK)

    def project(self, events: Sequence[ChangeEvent]) -> tuple[list[RootDocuments], list[Rejected]]:
        emitted = self._projector.process(events)
        index_of = {id(event): i for i, event in enumerate(events)}
        rejected = [Rejected(index_of[id(bad.event)], "project", bad) for bad in self._projector.invalid
                    if id(bad.event) in index_of]
        return emitted, rejected

    def commit(self, position: int | None) -> None:
        if position is not None and position > (self.position() or 0):
            self._store.set_mark(POSITION_MARK, position)
        self._store.commit()

    def reset(self) -> None:
        self._store.close()
        self._wipe()
        self._store = self._open()
        self._projector = Projector(self._store)

    def close(self) -> None:
        self._store.close()
