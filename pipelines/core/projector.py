"""The batch entry point of the projection core: apply a batch, build each touched root once.

Usage by a runtime::

    projector = Projector(store)
    emissions = projector.process(events)     # list[RootDocuments], one per touched root
    for bad in projector.invalid:             # events of this batch that were not applied
        send_to_dlq(bad.event, bad.reason)
    ...sinks write and flush emissions...
    store.commit()                            # then acknowledge the source position

A bad event (fails its row contract, has no LSN, or crashes the core) is listed in
``invalid`` and the rest of the batch goes on. If building a root crashes, the root is
not emitted and every event of the batch that touched it is listed in ``invalid``
(their facts stay in state; the next change of that root tries again). A state-store
failure (:class:`~pipelines.errors.StateStoreError`) is not an event's fault: it
propagates, and the runtime retries from its last checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.envelope import ChangeEvent
from pipelines.core.apply import apply, apply_reads, read_run_key, root_version
from pipelines.core.content import content_documents
from pipelines.core.lookup import Lookup
from pipelines.core.products import product_documents
from pipelines.errors import InvalidEvent, StateStoreError
from pipelines.model import Document, RootDocuments, RootKey
from pipelines.state.port import StateStore

log = logging.getLogger(__name__)


def build(root: RootKey, store: StateStore, lookup: Lookup | None = None) -> RootDocuments:
    """Every document ``root`` has now (empty when it has none), at its current version.

    Parameters:
        root: the product or content root.
        store: the state every event so far was applied to.
        lookup: a cache of dimension reads to share across the roots of one batch.
    """
    lookup = lookup if lookup is not None else Lookup(store)
    version = root_version(store, root)
    documents: tuple[Document, ...]
    if root.doc_type == "product":
        documents = product_documents(root, lookup, version)
    else:
        documents = content_documents(root, lookup, version)
    return RootDocuments(root=root, version=version, documents=documents)


@dataclass(slots=True)
class Touch:
    """What reached one root since it was last built: the events remembered for error
    reports, the newest LSN among them and the commit time of the newest streamed one."""

    events: list[ChangeEvent]
    newest_lsn: int
    committed_ms: int | None


Touched = dict[RootKey, Touch]
"""Roots waiting to be built, in the order they were first touched."""


class Projector:
    """Applies batches of change events to ``store`` and builds the touched roots.

    ``process`` does both for one batch. A runtime that wants to apply several batches
    before building (a snapshot, where every table touches every root again) calls
    ``apply_batch`` per batch into one :data:`Touched` and ``build_touched`` at the end,
    so each root is built once instead of once per table.

    Parameters:
        store: the state store (the runtime commits it at checkpoints).
    """

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.invalid: list[InvalidEvent] = []

    def process(self, events: Iterable[ChangeEvent]) -> list[RootDocuments]:
        """Apply ``events`` in order, then build each touched root once.

        Returns one emission per touched root, in the order the roots were first
        touched. ``self.invalid`` then lists the events of this batch that were not
        applied or whose roots could not be built.
        """
        touched: Touched = {}
        self.apply_batch(events, touched)
        rejected = self.invalid
        emissions = self.build_touched(touched)
        self.invalid = rejected + self.invalid
        return emissions

    def apply_batch(self, events: Iterable[ChangeEvent], touched: Touched, remember: int | None = None) -> None:
        """Apply ``events`` in order, adding the roots they reach to ``touched``.

        ``remember`` bounds the events kept per root for error reports (the newest
        ones); None keeps all. ``self.invalid`` then lists the events not applied.
        """
        self.invalid = []
        apply_one = self._apply
        run: list[ChangeEvent] = []  # snapshot reads that share a table and an LSN (see apply_reads)
        run_key: tuple[str, int] | None = None
        for event in events:
            key = read_run_key(event)
            if key is not None:
                if key != run_key:
                    self._apply_reads(run, touched, remember)
                    run, run_key = [], key
                run.append(event)
                continue
            if run:
                self._apply_reads(run, touched, remember)
                run, run_key = [], None
            roots = apply_one(event)
            if roots:
                _record(touched, roots, event, remember)
        self._apply_reads(run, touched, remember)

    def _apply_reads(self, run: list[ChangeEvent], touched: Touched, remember: int | None) -> None:
        if not run:
            return
        rejected = len(self.invalid)
        try:
            reached = apply_reads(self.store, run, self._apply)
        except StateStoreError:
            raise
        except Exception:  # noqa: BLE001 — a bug of the shortcut costs the shortcut, not the events
            log.exception("applying snapshot reads in a run failed; applying them one by one",
                          extra={"table": run[0].table})
            del self.invalid[rejected:]  # the events go through apply again, each once
            reached = {}
            for event in run:
                for root in self._apply(event):
                    reached.setdefault(root, []).append(event)
        for root, events in reached.items():
            _record_all(touched, root, events, remember)

    def build_touched(self, touched: Touched) -> list[RootDocuments]:
        """Build every root of ``touched`` once, in order.

        ``self.invalid`` then lists the remembered events of roots that could not be built.
        """
        self.invalid = []
        lookup = Lookup(self.store)
        emissions = []
        for root, touch in touched.items():
            try:
                emission = build(root, self.store, lookup)
            except StateStoreError:
                raise
            except Exception as exc:  # noqa: BLE001 — see _apply
                log.exception("building a root failed", extra={"tenant": str(root.tenant_id), "root": str(root.id)})
                for event in touch.events:
                    self._reject(InvalidEvent(event, f"building {root.doc_type} {root.id} failed: {exc!r}"))
                continue
            if touch.committed_ms is not None:
                committed = datetime.fromtimestamp(touch.committed_ms / 1000, tz=UTC)
                emission = RootDocuments(emission.root, emission.version, emission.documents, committed)
            emissions.append(emission)
        return emissions

    def _apply(self, event: ChangeEvent) -> set[RootKey]:
        try:
            return apply(self.store, event)
        except InvalidEvent as exc:
            self._reject(exc)
        except StateStoreError:
            raise
        except Exception as exc:  # noqa: BLE001 — a projector bug must cost one event, not the stream
            log.exception("projector crashed on an event", extra={"table": event.table, "lsn": event.source.lsn})
            self._reject(InvalidEvent(event, f"projector crashed: {exc!r}"))
        return set()

    def _reject(self, error: InvalidEvent) -> None:
        log.warning("invalid change event", extra={"table": error.event.table, "lsn": error.event.source.lsn,
                                                  "reason": error.reason})
        self.invalid.append(error)


def _record_all(touched: Touched, root: RootKey, events: list[ChangeEvent], remember: int | None) -> None:
    """``_record`` of each of ``events`` (in order) for one root."""
    for event in events if remember is None else events[max(0, len(events) - remember):]:
        _record(touched, (root,), event, remember)


def _record(touched: Touched, roots: Iterable[RootKey], event: ChangeEvent, remember: int | None) -> None:
    source = event.source
    lsn = source.lsn or 0
    committed = None if source.is_snapshot else source.ts_ms
    for root in roots:
        touch = touched.get(root)
        if touch is None:
            touched[root] = Touch([event], lsn, committed)
            continue
        touch.events.append(event)
        if remember is not None and len(touch.events) > remember:
            del touch.events[0]
        if lsn >= touch.newest_lsn and committed is not None:
            touch.newest_lsn, touch.committed_ms = lsn, committed
        elif lsn > touch.newest_lsn:
            touch.newest_lsn = lsn
