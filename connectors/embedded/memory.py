"""A consumer that keeps records in memory: for tests, ``rustok cdc tail`` and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .records import ChangeRecord


class InMemoryConsumer:
    """Keeps every delivered record in a list.

    Parameters:
        auto_durable: when True a batch is durable as soon as it is delivered; when
            False nothing is durable until :meth:`mark_durable` says so (to test
            redelivery after a crash).
        on_batch: called with each batch after it is stored (``rustok cdc tail`` prints).
        keep: store records (False just counts them, for throughput runs).
    """

    def __init__(
        self,
        *,
        auto_durable: bool = True,
        on_batch: Callable[[Sequence[ChangeRecord]], None] | None = None,
        keep: bool = True,
    ) -> None:
        self.auto_durable = auto_durable
        self._on_batch = on_batch
        self._keep = keep
        self._records: list[ChangeRecord] = []
        self._count = 0
        self._durable: int | None = None
        self._delivered_commit: int | None = None
        self._changed = threading.Condition()

    # -- the port --------------------------------------------------------------------

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        with self._changed:
            if self._keep:
                self._records.extend(batch)
            self._count += len(batch)
            for record in batch:
                if record.commit_lsn is not None:
                    self._delivered_commit = max(self._delivered_commit or 0, record.commit_lsn)
            if self.auto_durable and self._delivered_commit is not None:
                self._durable = self._delivered_commit
            self._changed.notify_all()
        if self._on_batch is not None:
            self._on_batch(batch)

    def durable_lsn(self) -> int | None:
        with self._changed:
            return self._durable

    # -- for callers -----------------------------------------------------------------

    def mark_durable(self, lsn: int | None = None) -> None:
        """Declare everything delivered (or up to ``lsn``) durable."""
        with self._changed:
            target = self._delivered_commit if lsn is None else lsn
            if target is not None and (self._durable is None or target > self._durable):
                self._durable = target

    @property
    def records(self) -> list[ChangeRecord]:
        with self._changed:
            return list(self._records)

    @property
    def count(self) -> int:
        with self._changed:
            return self._count

    def topic(self, topic: str) -> list[ChangeRecord]:
        return [record for record in self.records if record.topic == topic]

    def clear(self) -> None:
        with self._changed:
            self._records.clear()

    def wait_for(self, predicate: Callable[[list[ChangeRecord]], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(records)`` holds (True) or the timeout passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._records), timeout)
