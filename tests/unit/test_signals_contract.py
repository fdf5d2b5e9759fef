"""The execute-snapshot signal: Debezium's JSON, validated both ways."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from contracts.signals import (
    InvalidSignal, parse_snapshot_signal, snapshot_request, snapshot_signal_data, tenant_conditions,
)

TENANT = UUID("01890a5d-ac96-774b-bcce-b302099a8057")


def test_a_tenant_scoped_request_is_written_in_debeziums_format_and_reads_back_the_same() -> None:
    conditions = tenant_conditions(["commerce_products", "tenants"], TENANT)
    request = snapshot_request(["commerce_products", "public.tenants"], conditions)
    data = json.loads(snapshot_signal_data(request))
    assert data == {
        "data-collections": ["public.commerce_products", "public.tenants"],
        "type": "incremental",
        "additional-conditions": [
            {"data-collection": "public.commerce_products", "filter": f"tenant_id = '{TENANT}'"},
            {"data-collection": "public.tenants", "filter": f"id = '{TENANT}'"},
        ],
    }
    assert parse_snapshot_signal("execute-snapshot", json.dumps(data)) == request


def test_a_ulid_tenant_is_accepted_and_anything_else_is_refused_before_it_reaches_sql() -> None:
    assert tenant_conditions(["nodes"], "01H2GAVB4P8XKSPKEC8N51S08Q")["public.nodes"].startswith("tenant_id = '0188")
    with pytest.raises(InvalidSignal, match="not a ULID or UUID"):
        tenant_conditions(["nodes"], "x' OR '1'='1")


@pytest.mark.parametrize(("tables", "conditions", "message"), [
    ([], None, "non-empty"),
    ("nodes", None, "non-empty"),
    (["user_credentials"], None, "not a captured table"),
    (["other.nodes"], None, "not a captured table"),
    (["nodes", "public.nodes"], None, "twice"),
    (["nodes"], {"commerce_products": "true"}, "not among the requested"),
    (["nodes"], {"nodes": "  "}, "empty"),
])
def test_bad_requests_are_refused_with_a_clear_reason(tables: list[str], conditions: dict[str, str] | None,
                                                     message: str) -> None:
    with pytest.raises(InvalidSignal, match=message):
        snapshot_request(tables, conditions)


@pytest.mark.parametrize(("kind", "data", "message"), [
    ("snapshot-window-open", "{}", "is not 'execute-snapshot'"),
    ("execute-snapshot", "not json", "not JSON"),
    ("execute-snapshot", "[1]", "JSON object"),
    ("execute-snapshot", '{"type": "blocking", "data-collections": ["public.nodes"]}', "only incremental"),
    ("execute-snapshot", '{"data-collections": "public.nodes"}', "list of table names"),
    ("execute-snapshot", '{"data-collections": ["public.nodes"], "additional-conditions": [{"filter": "x"}]}',
     "needs 'data-collection'"),
])
def test_malformed_signal_payloads_are_refused(kind: str, data: str, message: str) -> None:
    with pytest.raises(InvalidSignal, match=message):
        parse_snapshot_signal(kind, data)
