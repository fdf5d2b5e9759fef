"""How long a delivered batch has waited already: the runner's linger counts from the
commit of its first change, so transactions that queued in the stream while the previous
flush ran are not held back for another full linger."""

from __future__ import annotations

import time

from connectors.embedded.records import ChangeRecord
from pipelines.runtime.embedded import _waited

LINGER = 0.05


def _begin(lsn: int) -> ChangeRecord:
    return ChangeRecord("rustok.transaction", {"id": "7:1"}, {"status": "BEGIN", "id": "7:1", "ts_ms": 0}, lsn, None)


def _change(committed_ms: int, snapshot: str = "false") -> ChangeRecord:
    source = {"ts_ms": committed_ms, "snapshot": snapshot, "lsn": 100}
    return ChangeRecord("rustok.public.commerce_products", {"id": "p"}, {"op": "u", "source": source}, 100, 120)


def test_a_batch_opened_by_a_transaction_marker_counts_from_its_first_change() -> None:
    committed = int(time.time() * 1000) - 30
    assert 0.02 <= _waited([_begin(90), _change(committed)], LINGER) <= LINGER


def test_a_batch_committed_long_ago_is_due_at_once_and_the_wait_is_capped() -> None:
    assert _waited([_begin(90), _change(int(time.time() * 1000) - 5_000)], LINGER) == LINGER


def test_snapshot_reads_and_batches_without_changes_have_waited_nothing() -> None:
    assert _waited([_change(int(time.time() * 1000) - 5_000, snapshot="true")], LINGER) == 0.0
    assert _waited([_begin(90)], LINGER) == 0.0
