"""The snapshot-read road through ``decode_records`` gives exactly what the full parse gives."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connectors.embedded.records import ChangeRecord
from contracts.envelope import ChangeEvent, InvalidChangeEvent, parse_change_event
from pipelines.runtime.decode import decode_records, snapshot_read

TOPIC = "rustok.public.commerce_variants"
ROW = {
    "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "tenant_id": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "product_id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "sku": "tab\there\nnew \\ line ✓", "barcode": None,
    "options": '{"size": "M"}', "position": 1, "manage_inventory": True, "inventory_policy": "deny",
    "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00.5Z",
}


def source(marker: str = "true", **changes: Any) -> dict[str, Any]:
    block = {"version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": 1_700_000_000_000,
             "snapshot": marker, "db": "rustok", "sequence": '[null,"123"]', "ts_us": 1_700_000_000_000_000,
             "ts_ns": 1_700_000_000_000_000_000, "schema": "public", "table": "commerce_variants", "txId": 77,
             "lsn": 123, "xmin": None}
    return {**block, **changes}


def read(block: dict[str, Any], **changes: Any) -> dict[str, Any]:
    value = {"before": None, "after": dict(ROW), "source": block, "transaction": None, "op": "r",
             "ts_ms": 1_700_000_000_001, "ts_us": 1_700_000_000_001_000, "ts_ns": 1_700_000_000_001_000_000}
    return {**value, **changes}


def outcome(value: dict[str, Any]) -> tuple[str, Any]:
    try:
        event = parse_change_event(copy.deepcopy(value))
    except InvalidChangeEvent:
        return "dead", None
    return "event", event


def same(a: ChangeEvent, b: ChangeEvent) -> None:
    assert a == b
    assert a.model_dump() == b.model_dump()
    assert a.model_dump_json() == b.model_dump_json()
    assert a.model_fields_set == b.model_fields_set
    assert a.source.model_fields_set == b.source.model_fields_set
    assert a.source.is_snapshot and b.source.is_snapshot


@pytest.mark.parametrize("marker", ["first", "true", "last", "first_in_data_collection", "last_in_data_collection"])
def test_a_snapshot_read_decodes_to_the_event_the_full_parse_gives(marker: str) -> None:
    shared = source(marker)
    values = [read(shared), read(shared, after={**ROW, "id": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})]
    decoded = decode_records([ChangeRecord(TOPIC, None, v, 123, None) for v in values], "p", "rustok")
    assert not decoded.dead and len(decoded.events) == 2
    for value, event in zip(values, decoded.events, strict=True):
        same(event, parse_change_event(copy.deepcopy(value)))
        assert event.after is not value["after"]  # the event owns its row, as a parsed one does
    assert decoded.events[0].source is decoded.events[1].source  # one validated block per marker


@pytest.mark.parametrize("value", [
    read(source(), ts_ms=True),                                   # bool is not an exact int
    read(source(), ts_us=1.5),
    read(source(), before=dict(ROW)),                             # a read carries no before
    read(source(), transaction={"id": "1:2", "total_order": 1, "data_collection_order": 1}),
    read(source("incremental")),                                  # incremental reads have their own rules
    read(source("false")),
    read(source(lsn="123")),                                      # the source block fails or coerces
    read(source(ts_ms=None)),
    read(source(), op="c"),
    read(source(), after=None),
    {**read(source()), "extra": 1},
    {k: v for k, v in read(source()).items() if k != "ts_ns"},
])
def test_anything_but_the_plainest_read_takes_the_full_parse_with_the_same_outcome(value: dict[str, Any]) -> None:
    expected = outcome(value)
    decoded = decode_records([ChangeRecord(TOPIC, None, value, 123, None)], "p", "rustok")
    if expected[0] == "dead":
        assert not decoded.events and len(decoded.dead) == 1 and decoded.dead[0].stage == "decode"
    else:
        assert not decoded.dead
        assert decoded.events == [expected[1]]
        assert decoded.events[0].model_fields_set == expected[1].model_fields_set


def test_the_road_is_only_taken_by_snapshot_reads() -> None:
    cache: dict[int, Any] = {}
    assert snapshot_read(read(source()), cache) is not None
    assert snapshot_read(read(source("incremental")), cache) is None
    assert snapshot_read(read(source(), after={1: "x"}), cache) is None  # a column name that is no string
    assert snapshot_read(read(source(), op="u", before=dict(ROW)), cache) is None
