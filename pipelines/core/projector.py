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
from pipelines.core.apply import apply, root_version
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


@dataclass(frozen=True, slots=True)
class _Touch:
    events: list[int]
    newest_lsn: int
    committed_ms: int | None


class Projector:
    """Applies batches of change events to ``store`` and builds the touched roots.

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
        self.invalid = []
        batch = list(events)
        touched: dict[RootKey, _Touch] = {}
        for index, event in enumerate(batch):
            for root in self._apply(event):
                _record(touched, root, index, event)
        return self._build_all(batch, touched)

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

    def _build_all(self, batch: list[ChangeEvent], touched: dict[RootKey, _Touch]) -> list[RootDocuments]:
        lookup = Lookup(self.store)
        emissions = []
        for root, touch in touched.items():
            try:
                emission = build(root, self.store, lookup)
            except StateStoreError:
                raise
            except Exception as exc:  # noqa: BLE001 — see _apply
                log.exception("building a root failed", extra={"tenant": str(root.tenant_id), "root": str(root.id)})
                for index in touch.events:
                    self._reject(InvalidEvent(batch[index], f"building {root.doc_type} {root.id} failed: {exc!r}"))
                continue
            if touch.committed_ms is not None:
                committed = datetime.fromtimestamp(touch.committed_ms / 1000, tz=UTC)
                emission = RootDocuments(emission.root, emission.version, emission.documents, committed)
            emissions.append(emission)
        return emissions


def _record(touched: dict[RootKey, _Touch], root: RootKey, index: int, event: ChangeEvent) -> None:
    lsn = event.source.lsn or 0
    committed = None if event.source.is_snapshot else event.source.ts_ms
    touch = touched.get(root)
    if touch is None:
        touched[root] = _Touch([index], lsn, committed)
        return
    touch.events.append(index)
    if lsn >= touch.newest_lsn and committed is not None:
        touched[root] = _Touch(touch.events, lsn, committed)
    elif lsn > touch.newest_lsn:
        touched[root] = _Touch(touch.events, lsn, touch.committed_ms)
