"""The StateStore contract, run against every implementation; SQLite durability."""

from __future__ import annotations

from pathlib import Path

from pipelines.state import SqliteStateStore, StateStore, StoredRow


def row(n: int) -> dict[str, object]:
    return {"id": f"id-{n}", "tenant_id": "t", "n": n, "data": '{"a": 1}'}


def test_a_put_row_is_read_back_with_its_version(store: StateStore) -> None:
    store.put("items:1", StoredRow((1, 42), row(1), ("g",)))
    assert store.get("items:1") == StoredRow((1, 42), row(1), ("g",))
    assert store.get("items:2") is None


def test_groups_list_live_members_and_follow_moves_and_deletes(store: StateStore) -> None:
    store.put("items:1", StoredRow((1, 1), row(1), ("a", "both")))
    store.put("items:2", StoredRow((1, 2), row(2), ("b", "both")))
    assert sorted(k for k, _ in store.members("both")) == ["items:1", "items:2"]
    store.put("items:1", StoredRow((1, 3), row(1), ("b", "both")))
    assert store.members("a") == []
    assert sorted(k for k, _ in store.members("b")) == ["items:1", "items:2"]
    store.put("items:2", StoredRow((1, 4), None))
    assert [k for k, _ in store.members("both")] == ["items:1"]
    assert store.get("items:2") == StoredRow((1, 4), None)


def test_scan_lists_live_rows_of_one_table_only(store: StateStore) -> None:
    store.put("items:1", StoredRow((1, 1), row(1)))
    store.put("items:2", StoredRow((1, 2), None))
    store.put("items_other:3", StoredRow((1, 3), row(3)))
    assert [k for k, _ in store.scan("items")] == ["items:1"]


def test_marks_are_named_integers(store: StateStore) -> None:
    assert store.mark("rootv:x") is None
    store.set_mark("rootv:x", 2**62)
    assert store.mark("rootv:x") == 2**62


def test_sqlite_reopened_after_a_crash_has_the_last_committed_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = SqliteStateStore(path)
    first.put("items:1", StoredRow((0, 7), row(1), ("g",)))
    first.set_mark("m", 7)
    first.commit()
    first.put("items:2", StoredRow((1, 9), row(2), ("g",)))
    first.put("items:1", StoredRow((1, 9), None))
    first.set_mark("m", 9)
    first.close()  # a crash: nothing after the commit was made durable
    reopened = SqliteStateStore(path)
    assert reopened.get("items:1") == StoredRow((0, 7), row(1), ("g",))
    assert reopened.get("items:2") is None
    assert [k for k, _ in reopened.members("g")] == ["items:1"]
    assert reopened.mark("m") == 7
    reopened.close()


def test_sqlite_keeps_tombstones_and_group_moves_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = SqliteStateStore(path)
    first.put("items:1", StoredRow((1, 1), row(1), ("a",)))
    first.put("items:2", StoredRow((1, 1), row(2), ("a",)))
    first.commit()
    first.put("items:1", StoredRow((1, 2), None))
    first.put("items:2", StoredRow((1, 2), row(2), ("b",)))
    first.commit()
    first.close()
    reopened = SqliteStateStore(path)
    assert reopened.get("items:1") == StoredRow((1, 2), None)
    assert reopened.members("a") == []
    assert [k for k, _ in reopened.members("b")] == ["items:2"]
    reopened.close()


def test_rows_put_while_the_sqlite_store_commits_on_another_thread_are_written_by_the_next_commit(
    tmp_path: Path,
) -> None:
    import threading

    store = SqliteStateStore(tmp_path / "state.sqlite")
    for i in range(20_000):
        store.put(f"items:{i}", StoredRow((0, i), {"id": str(i)}, ()))
    saving = threading.Thread(target=store.commit)
    saving.start()
    for i in range(20_000, 40_000):  # a snapshot goes on being applied meanwhile
        store.put(f"items:{i}", StoredRow((0, i), {"id": str(i)}, ()))
        store.set_mark(f"m:{i % 100}", i)
    saving.join()
    store.commit()
    store.close()

    reopened = SqliteStateStore(tmp_path / "state.sqlite")
    try:
        assert len(reopened) == 40_000
        assert all(reopened.get(f"items:{i}") == StoredRow((0, i), {"id": str(i)}, ()) for i in range(40_000))
        assert all(reopened.mark(f"m:{m}") == 39_900 + m for m in range(100))
    finally:
        reopened.close()
