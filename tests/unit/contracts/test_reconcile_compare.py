"""The pure side of reconciliation and suite scoping."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from contracts.expectations import InvalidScope, Scope
from rustok.reconcile import DocKey, checksum, compare

A = DocKey("product", "t1", "en", "p1")
B = DocKey("product", "t1", "de", "p1")
C = DocKey("content", "t2", "en", "n1")


def test_a_checksum_ignores_key_order_but_not_values() -> None:
    assert checksum({"title": "Mug", "prices": [["EUR", 1, 2]]}) == checksum({"prices": [["EUR", 1, 2]], "title": "Mug"})
    assert checksum({"title": "Mug"}) != checksum({"title": "Mug "})


def test_compare_lists_missing_extra_and_the_fields_that_differ_with_counts_per_tenant_and_locale() -> None:
    expected = {A: {"title": "Mug", "status": "published"}, B: {"title": "Becher", "status": "published"}}
    actual = {A: {"title": "Mug", "status": "draft"}, C: {"title": "About"}}
    drift = compare(expected, actual)
    assert drift.missing == [B] and drift.extra == [C] and drift.differing == {A: ["status"]}
    assert drift.counts == {("product", "t1", "en"): (1, 1), ("product", "t1", "de"): (1, 0),
                            ("content", "t2", "en"): (0, 1)}
    assert set(drift.checksums) == {A, B, C} and drift.checksums[B][1] is None
    assert not drift.clean


def test_identical_sides_are_clean_and_report_no_entities() -> None:
    drift = compare({A: {"title": "Mug"}}, {A: {"title": "Mug"}})
    assert drift.clean and drift.as_dict()["missing"] == [] and drift.checksums == {}


def test_a_scope_only_ever_puts_a_uuid_into_its_sql() -> None:
    tenant = UUID("0190a0b1-7c2e-7d3f-8a4b-5c6d7e8f9a0b")
    assert Scope(tenant).tenant_filter("r.tenant_id") == f"r.tenant_id = '{tenant}'::uuid"
    assert Scope().tenant_filter("r.tenant_id") == "TRUE"
    with pytest.raises(InvalidScope):
        Scope("x' OR TRUE --")  # type: ignore[arg-type]
    with pytest.raises(InvalidScope):
        Scope(freshness=timedelta(0))
