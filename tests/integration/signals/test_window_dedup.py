"""The DBLog window, driven record by record: a row changed in the stream between a
chunk's open and close markers is left out of the chunk (the streamed change is newer);
changes outside the window or of other tables leave the chunk whole."""

from __future__ import annotations

from typing import Any

import psycopg

from connectors.embedded.envelope import EnvelopeBuilder
from connectors.embedded.incremental import IncrementalSnapshots
from connectors.embedded.records import ChangeRecord
from contracts.signals import EXECUTE_SNAPSHOT, snapshot_request, snapshot_signal_data
from rustok import demo

SIGNALS = "rustok.public.rustok_signals"
PRODUCTS = "rustok.public.commerce_products"


def signal(row_id: str, kind: str, lsn: int, data: str | None = None) -> ChangeRecord:
    source = {"snapshot": "false", "lsn": lsn, "txId": lsn, "sequence": f'["{lsn - 1}","{lsn}"]'}
    value = {"before": None, "after": {"id": row_id, "type": kind, "data": data}, "source": source, "op": "c"}
    return ChangeRecord(SIGNALS, {"id": row_id}, value, lsn, lsn + 1)


def change(topic: str, row_id: str, lsn: int) -> ChangeRecord:
    value: dict[str, Any] = {"before": None, "after": {"id": row_id}, "source": {"lsn": lsn}, "op": "u"}
    return ChangeRecord(topic, {"id": row_id}, value, lsn, lsn + 1)


def markers(database_url: str) -> tuple[str, str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id FROM rustok_signals WHERE type LIKE 'snapshot-window-%' ORDER BY id").fetchall()
    close, open_ = (str(r[0]) for r in rows)
    return open_, close


def test_only_rows_changed_inside_the_window_are_dropped_from_the_chunk(database_url: str, two_tenants: str) -> None:
    snapshots = IncrementalSnapshots(database_url, EnvelopeBuilder(prefix="rustok", database="rustok"))
    try:
        data = snapshot_signal_data(snapshot_request(["commerce_products"]))
        assert snapshots.process([signal("s1", EXECUTE_SNAPSHOT, 10, data)])[1:] == []
        open_, close = markers(database_url)
        ids = sorted(str(demo.demo_id("product", handle)) for handle in demo.PRODUCTS)
        changed_inside, changed_before = ids[0], ids[1]
        out = [
            *snapshots.process([change(PRODUCTS, changed_before, 11)]),
            *snapshots.process([signal(open_, "snapshot-window-open", 12)]),
            *snapshots.process([change(PRODUCTS, changed_inside, 13),
                                change("rustok.public.commerce_variants", ids[2], 14)]),
            *snapshots.process([signal(close, "snapshot-window-close", 15)]),
        ]
    finally:
        snapshots.close()
    reads = [r for r in out if r.value and r.value["source"].get("snapshot") == "incremental"]
    read_ids = {r.key["id"] for r in reads if r.key}
    assert changed_inside not in read_ids and changed_before in read_ids and ids[2] in read_ids
    assert len(read_ids) == len(demo.PRODUCTS) - 1 + 3  # the other tenant's three products are read too
    assert out.index(reads[0]) == [r.topic for r in out].index(SIGNALS, 4) + 1  # right after the close marker
    assert {r.value["source"]["sequence"] for r in reads if r.value} == {'["14","15"]'}
    (progress,) = snapshots.progress()
    assert progress.finished and progress.rows_done == len(demo.PRODUCTS) + 3
