from __future__ import annotations

import pytest

from write_api.domain.flex import MAX_DEPTH, parse_fields, validate_entry
from write_api.domain.lifecycle import transition
from write_api.domain.orders import PricedLine, next_order_status, order_totals
from write_api.domain.permissions import PERMISSION_RE, ROLE_PERMISSIONS
from write_api.errors import InvalidInput, InvalidTransition


def test_a_draft_can_be_published_but_an_archived_item_cannot() -> None:
    assert transition("draft", "publish") == "published"
    with pytest.raises(InvalidTransition):
        transition("archived", "publish")


def test_order_totals_add_lines_tax_and_shipping_and_subtract_the_discount() -> None:
    totals = order_totals([PricedLine(2, 1250), PricedLine(1, 500)], tax=300, shipping=400, discount=100)
    assert (totals.subtotal, totals.total) == (3000, 3600)
    with pytest.raises(InvalidInput):
        order_totals([PricedLine(1, 100)], discount=101)
    with pytest.raises(InvalidTransition):
        next_order_status("cancelled", "paid")


def test_flex_schemas_refuse_nesting_deeper_than_the_limit() -> None:
    field: dict[str, object] = {"name": "leaf", "type": "string"}
    for level in range(MAX_DEPTH + 1):
        field = {"name": f"level{level}", "type": "object", "fields": [field]}
    with pytest.raises(InvalidInput):
        parse_fields([field])


def test_flex_entries_report_every_problem_with_its_path() -> None:
    specs = parse_fields([{"name": "size", "type": "integer", "required": True},
                          {"name": "dims", "type": "object", "fields": [{"name": "w", "type": "number"}]},
                          {"name": "tags", "type": "list", "items": {"type": "string", "max_length": 3}}])
    errors = validate_entry(specs, {"dims": {"w": "wide"}, "tags": ["ok", "toolong"]})
    assert {e.path for e in errors} == {("body", "data", "size"), ("body", "data", "dims", "w"), ("body", "data", "tags", 1)}


def test_seeded_roles_use_well_formed_permissions_and_viewers_only_read() -> None:
    assert all(PERMISSION_RE.match(p) for perms in ROLE_PERMISSIONS.values() for p in perms)
    assert all(p.endswith(".read") for p in ROLE_PERMISSIONS["viewer"])
