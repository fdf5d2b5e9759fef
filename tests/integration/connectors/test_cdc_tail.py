"""``rustok cdc tail`` against a real PostgreSQL, through typer's CliRunner."""

from __future__ import annotations

import json
import threading
import time

import psycopg
from typer.testing import CliRunner

from rustok.cli_cdc import cdc_app, describe_event


def tail(url: str, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cdc_app, ["tail", "--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_tail_from_the_beginning_prints_existing_rows_then_live_changes_of_that_table_only(cdc_url: str) -> None:
    with psycopg.connect(cdc_url, autocommit=True) as conn:
        conn.execute("INSERT INTO items VALUES (1, 'existing', 1)")
        conn.execute("INSERT INTO notes VALUES (1, 'other table')")

    def write_later() -> None:
        time.sleep(1.0)
        with psycopg.connect(cdc_url, autocommit=True) as conn:
            conn.execute("INSERT INTO notes VALUES (2, 'not shown')")
            conn.execute("UPDATE items SET qty = 7, name = 'renamed' WHERE id = 1")
            conn.execute("DELETE FROM items WHERE id = 1")

    writer = threading.Thread(target=write_later)
    writer.start()
    lines = tail(cdc_url, "--table", "items", "--from-beginning", "--limit", "4", "--idle-timeout", "20")
    writer.join()

    assert [line["op"] for line in lines] == ["r", "u", "d", "tombstone"]
    assert {line["table"] for line in lines} == {"public.items"}
    read, update, delete, _ = lines
    assert read["key"] == {"id": 1} and read["after"] == {"id": 1, "name": "existing", "qty": 1}
    assert update["changed"] == {"name": ["existing", "renamed"], "qty": [1, 7]}
    assert isinstance(update["lsn"], int) and update["lsn"] < delete["lsn"]  # type: ignore[operator]
    assert delete["before"] == {"id": 1, "name": "renamed", "qty": 7}


def test_tail_uses_a_temporary_slot_and_leaves_no_slot_behind(cdc_url: str) -> None:
    with psycopg.connect(cdc_url, autocommit=True) as conn:
        conn.execute("INSERT INTO items VALUES (1, 'existing', 1)")
    slots_seen: list[tuple[str, bool]] = []

    def watch_and_write() -> None:
        time.sleep(1.0)
        with psycopg.connect(cdc_url, autocommit=True) as conn:
            slots_seen.extend(conn.execute("SELECT slot_name, temporary FROM pg_replication_slots").fetchall())
            conn.execute("INSERT INTO items VALUES (2, 'new', 2)")

    watcher = threading.Thread(target=watch_and_write)
    watcher.start()
    lines = tail(cdc_url, "--table", "public.items", "--limit", "1", "--idle-timeout", "20")
    watcher.join()

    assert [(line["op"], line["key"]) for line in lines] == [("c", {"id": 2})]  # no snapshot without --from-beginning
    assert len(slots_seen) == 1 and slots_seen[0][0].startswith("rustok_tail_") and slots_seen[0][1] is True
    # A temporary slot goes with its session: PostgreSQL drops it as the tail's backend exits,
    # which may be a moment after the tail closed its connection on a loaded machine.
    with psycopg.connect(cdc_url, autocommit=True) as conn:
        deadline = time.monotonic() + 15
        while (left := conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone()) != (0,):
            assert time.monotonic() < deadline, f"slots left behind: {left}"
            time.sleep(0.1)


def test_tail_of_a_table_that_is_not_captured_is_a_clear_error(cdc_url: str) -> None:
    result = CliRunner().invoke(cdc_app, ["tail", "--database-url", cdc_url, "--table", "scratch", "--limit", "1"])

    assert result.exit_code == 2
    assert "public.scratch is not captured" in result.output


def test_an_update_line_lists_only_the_columns_that_changed() -> None:
    value = {"op": "u", "before": {"id": 1, "a": 1, "b": "x"}, "after": {"id": 1, "a": 2, "b": "x"},
             "source": {"lsn": 42, "ts_ms": 7}}

    assert describe_event("rustok.public.t", {"id": 1}, value) == {
        "op": "u", "table": "public.t", "key": {"id": 1}, "lsn": 42, "ts_ms": 7, "changed": {"a": [1, 2]},
    }
