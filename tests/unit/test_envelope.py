from __future__ import annotations

import orjson
import pytest

from contracts.envelope import InvalidChangeEvent, parse_change_event
from contracts.rows import ROW_CONTRACTS, parse_event_rows
from contracts.topics import outbox_topic, split_table_topic, table_topic

SOURCE = {
    "version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": 1767225600000,
    "snapshot": "false", "db": "rustok", "sequence": '["24023928","24024040"]', "ts_us": 1767225600000000,
    "ts_ns": 1767225600000000000, "schema": "public", "table": "commerce_tags", "txId": 771,
    "lsn": 24024040, "xmin": None,
}
TAG = {"id": "019b76da-a800-35b0-42cd-8ce4fcba23bb", "tenant_id": "019b76da-a800-b833-83ac-58734b84e817",
       "slug": "organic", "name": "Organic"}


def test_a_debezium_update_parses_with_typed_rows() -> None:
    value = {"before": TAG, "after": {**TAG, "name": "Bio"}, "source": SOURCE, "op": "u", "ts_ms": 1767225600001,
             "transaction": {"id": "771:24024040", "total_order": 1, "data_collection_order": 1}}
    event = parse_change_event(orjson.dumps(value))
    before, after = parse_event_rows(event)
    assert event.table == "commerce_tags" and event.position == (24024040, 1)
    assert before is not None and after is not None
    assert (before.name, after.name) == ("Organic", "Bio")  # type: ignore[attr-defined]


def test_a_delete_exposes_the_old_row() -> None:
    event = parse_change_event({"before": TAG, "after": None, "source": SOURCE, "op": "d"})
    assert event.row["slug"] == "organic"


@pytest.mark.parametrize("value", [
    b"not json",
    {"before": None, "after": None, "source": SOURCE, "op": "c"},
    {"before": None, "after": TAG, "source": SOURCE, "op": "x"},
    {"before": None, "after": TAG, "op": "c"},
])
def test_malformed_events_are_rejected_with_a_reason(value: object) -> None:
    with pytest.raises(InvalidChangeEvent):
        parse_change_event(value)  # type: ignore[arg-type]


def test_rows_that_break_their_contract_are_rejected() -> None:
    event = parse_change_event({"before": None, "after": {**TAG, "surprise": 1}, "source": SOURCE, "op": "c"})
    with pytest.raises(InvalidChangeEvent, match="surprise"):
        parse_event_rows(event)


def test_jsonb_arrives_as_text_and_is_parsed() -> None:
    row = ROW_CONTRACTS["tenants"].model_validate({
        "id": TAG["id"], "slug": "demo", "name": "Demo", "default_locale": "en", "status": "active",
        "settings": '{"theme": "dark"}', "created_at": "2026-01-01T00:00:00.000000Z", "updated_at": "2026-01-01T00:00:00Z",
    })
    assert row.settings == {"theme": "dark"}  # type: ignore[attr-defined]


def test_topic_names() -> None:
    assert table_topic("nodes") == "rustok.public.nodes"
    assert outbox_topic("product") == "rustok.events.product"
    assert split_table_topic("rustok.public.commerce_prices") == ("rustok", "public", "commerce_prices")
