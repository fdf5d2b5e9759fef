"""The projection core as the runners drive it: a Projector over a state store that also
keeps the source position the state has absorbed, committed with the state itself.

Two ways to drive it:

* ``project(events)`` applies one batch and builds every root it touched (streaming);
* ``absorb(events)`` applies a batch and only remembers the roots it touched, then
  ``emit(max_roots)`` builds them, a slice at a time. A snapshot arrives table by
  table, so every table touches every root again: absorbing the whole snapshot and
  emitting at its end builds each root once instead of once per table. Roots are built in
  root order, the order of the state store's file (rows clustered by root), so a state
  served from its file is read in one pass instead of at random. Only the newest
  event per deferred root is kept (for the dead letter if its build fails), so memory
  grows with the roots, not with the events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice

from contracts.envelope import ChangeEvent
from pipelines.core import Projector
from pipelines.core.projector import Touched
from pipelines.model import RootDocuments, RootKey
from pipelines.state.port import StateStore

POSITION_MARK = "runtime:source_position"
REMEMBERED_EVENTS = 1


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event the core refused: its index in the batch, the stage and the error.

    ``index`` is -1 for an event of an earlier, absorbed batch; ``event`` is the event.
    """

    index: int
    stage: str
    error: Exception
    event: ChangeEvent | None = None


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
        self._pending: Touched = {}
        self._in_order = True  # whether _pending is in root order
        self._batch_index: dict[int, int] = {}

    def position(self) -> int | None:
        """The source position (commit LSN) whose events the committed state holds."""
        return self._store.mark(POSITION_MARK)

    def project(self, events: Sequence[ChangeEvent]) -> tuple[list[RootDocuments], list[Rejected]]:
        emitted = self._projector.process(events)
        index_of = {id(event): i for i, event in enumerate(events)}
        rejected = [Rejected(index_of[id(bad.event)], "project", bad) for bad in self._projector.invalid
                    if id(bad.event) in index_of]
        return emitted, rejected

    def absorb(self, events: Sequence[ChangeEvent]) -> list[Rejected]:
        """Apply ``events``; their roots wait for :meth:`emit`. Returns the events refused."""
        self._batch_index = {id(event): i for i, event in enumerate(events)}
        self._projector.apply_batch(events, self._pending, REMEMBERED_EVENTS)
        self._in_order = False
        return self._rejected()

    @property
    def pending_roots(self) -> int:
        return len(self._pending)

    def emit(self, max_roots: int) -> tuple[list[RootDocuments], list[Rejected]]:
        """Build up to ``max_roots`` absorbed roots (in root order) and forget them."""
        if not self._in_order:
            self._pending = dict(sorted(self._pending.items(), key=_root_order))
            self._in_order = True
        keys = list(islice(self._pending, max_roots))
        chunk = {key: self._pending.pop(key) for key in keys}
        emitted = self._projector.build_touched(chunk)
        return emitted, self._rejected()

    def _rejected(self) -> list[Rejected]:
        index_of = self._batch_index
        return [Rejected(index_of.get(id(bad.event), -1), "project", bad, bad.event) for bad in self._projector.invalid]

    def save_ahead(self, reading: bool = False) -> bool:
        """Write the state absorbed so far, without a position, if the state has none yet
        (a snapshot's first build); returns whether it did.

        Meant to run beside :meth:`emit` (building only reads state): the bulk of a
        snapshot's state is written while its roots are built and written to the sinks.
        Without a position a crash still restarts from a fresh snapshot, so state is never
        durable "ahead" of a position whose documents the sinks may lack. A store with a
        position (streaming) is left alone: :meth:`commit` writes it with the position.

        ``reading``: the snapshot is still being read. A store that holds its whole state in
        memory (``in_memory``) then waits for the build: reading and absorbing is one thread
        bound by the GIL, and a save beside it (encoding every row) took the GIL from it for
        nothing the build's one sorted commit would not do. A store serving from its file
        saves as it goes, which bounds its memory.
        """
        if self.position() is not None or (reading and getattr(self._store, "in_memory", False)):
            return False
        self._store.commit()
        return True

    def commit(self, position: int | None) -> None:
        if position is not None and position > (self.position() or 0):
            self._store.set_mark(POSITION_MARK, position)
        self._store.commit()

    def reset(self) -> None:
        self._store.close()
        self._wipe()
        self._store = self._open()
        self._projector = Projector(self._store)
        self._pending = {}
        self._in_order = True
        self._batch_index = {}

    def close(self) -> None:
        self._store.close()


def _root_order(item: tuple[RootKey, object]) -> tuple[str, int, int]:
    """RootKey order (that of root group names in the state file), without comparing dataclasses."""
    root = item[0]
    return root.doc_type, root.tenant_id.int, root.id.int
