"""Change-stream suites on crafted events: a good event passes, each kind of bad one fails its expectation."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.expectations import change_stream_suite, event_records
from rustok.contracts_check import run_frame_suites, run_stream_suites

TENANT = "0190a0b1-7c2e-7d3f-8a4b-5c6d7e8f9a0b"


def node_event(op: str = "c", **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "0190a0b1-7c2e-7d3f-8a4b-5c6d7e8f9a0c", "tenant_id": TENANT, "kind": "page", "status": "published",
        "parent_id": None, "root_id": "0190a0b1-7c2e-7d3f-8a4b-5c6d7e8f9a0c", "author_id": None,
        "category_id": None, "position": 0, "depth": 0, "metadata": "{}",
        "published_at": "2026-11-22T16:00:00.123456Z", "created_at": "2026-11-22T16:00:00Z",
        "updated_at": "2026-11-22T16:00:00.5+01:00",
    }
    row.update(changes)
    for name in [k for k, v in changes.items() if v is ...]:
        del row[name]
    image = "before" if op == "d" else "after"
    return {"op": op, image: row, "source": {"table": "nodes", "lsn": 1}}


def failures(events: list[dict[str, Any]]) -> list[str]:
    outcomes, _ = run_stream_suites(events)
    return [o.description for o in outcomes if not o.success]


def test_good_events_of_every_operation_pass() -> None:
    assert failures([node_event("r"), node_event("c"), node_event("u"), node_event("d")]) == []


BAD_EVENTS = {
    "unknown operation": (node_event("x"), "op is c, u, d or r"),
    "missing column": (node_event(depth=...), "nodes.depth is present"),
    "unknown column": (node_event(colour="red"), "rows carry exactly the columns of the nodes contract"),
    "required field null": (node_event(root_id=None), "nodes.root_id is present"),
    "id not a uuid": (node_event(tenant_id="tenant-1"), "nodes.tenant_id is a UUID"),
    "enum value": (node_event(kind="gallery"), "nodes.kind is one of its enum values"),
    "integer as text": (node_event(position="3"), "nodes.position is a JSON integer"),
    "timestamp without zone": (node_event(created_at="2026-11-22 16:00:00"),
                               "nodes.created_at is an ISO 8601 timestamp with a zone"),
    "metadata not json text": (node_event(metadata="{oops"), "nodes.metadata is JSON text"),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_each_change_stream_expectation_fails_on_a_crafted_bad_event(case: str) -> None:
    bad, description = BAD_EVENTS[case]
    assert description in failures([node_event("r"), bad])


def test_a_number_is_not_a_flag() -> None:
    rows = event_records([{"op": "c", "after": {"id": TENANT, "tenant_id": TENANT, "locale": "en",
                                                "enabled": 1, "position": 3,
                                                "created_at": "2026-11-22T16:00:00Z"},
                           "source": {"table": "tenant_locales"}}])
    outcomes = run_frame_suites([(change_stream_suite("tenant_locales"), rows["tenant_locales"])])
    failed = {o.description for o in outcomes if not o.success}
    assert failed == {"tenant_locales.enabled is a JSON boolean"}


def test_events_of_a_table_without_a_contract_fail_and_silent_tables_are_noted() -> None:
    outcomes, notes = run_stream_suites([{"op": "c", "after": {"id": 1}, "source": {"table": "mystery"}}])
    assert [(o.suite, o.success) for o in outcomes] == [("change_stream.mystery", False)]
    assert "no change events sampled for nodes" in notes


def test_the_connectors_signal_rows_are_not_held_to_a_data_contract() -> None:
    signal = {"op": "c", "after": {"id": "x", "type": "execute-snapshot", "data": "{}"},
              "source": {"table": "rustok_signals"}}
    outcomes, _ = run_stream_suites([signal, node_event("r")])
    assert {o.suite for o in outcomes} == {"change_stream.nodes"} and all(o.success for o in outcomes)
