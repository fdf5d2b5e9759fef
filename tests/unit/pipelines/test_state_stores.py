"""The StateStore contract, run against every implementation; SQLite durability."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import orjson
import pytest

from pipelines.state import InMemoryStateStore, SqliteStateStore, StateStore, StoredRow


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


@pytest.mark.parametrize("memory_rows", [0, 1_000_000])
def test_rows_put_while_the_sqlite_store_commits_on_another_thread_are_written_by_the_next_commit(
    tmp_path: Path, memory_rows: int,
) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite", memory_rows=memory_rows)
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


def _random_operations(seed: int, count: int) -> list[tuple[str, object, object]]:
    """Puts (moves between groups, tombstones, revivals), marks and commits over a few keys."""
    rng = random.Random(seed)
    operations: list[tuple[str, object, object]] = []
    for step in range(count):
        roll = rng.random()
        if roll < 0.08:
            operations.append(("commit", None, None))
        elif roll < 0.25:
            operations.append(("mark", f"m:{rng.randrange(15)}", step))
        else:
            key = f"{rng.choice(['items', 'other'])}:{rng.randrange(40)}"
            dead = rng.random() < 0.2
            groups = () if dead else tuple(sorted(rng.sample(["a", "b", "c", "d"], rng.randrange(0, 3))))
            operations.append(("put", key, StoredRow((1, step), None if dead else row(step), groups)))
    return operations


def _same_reads(store: SqliteStateStore, reference: InMemoryStateStore) -> None:
    for table in ("items", "other"):
        for n in range(40):
            assert store.get(f"{table}:{n}") == reference.get(f"{table}:{n}")
        assert sorted(store.scan(table)) == sorted(reference.scan(table))
    for group in "abcd":
        assert sorted(store.members(group)) == sorted(reference.members(group))
    for m in range(15):
        assert store.mark(f"m:{m}") == reference.mark(f"m:{m}")


@pytest.mark.parametrize("insert_rows", [2000, 3])
@pytest.mark.parametrize("memory_rows", [0, 25, 1_000_000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sqlite_store_reads_like_memory_in_memory_spilled_or_spilling_midway_and_reopened(
    tmp_path: Path, memory_rows: int, seed: int, insert_rows: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether the state is kept in memory, served from the file, or outgrows memory halfway
    (``memory_rows=25`` of 80 keys), every read answers as the in-memory store does, before
    and after commits; reopened, in memory or not, the file holds the state of the last commit.
    ``insert_rows=3``: commits write rows, keys, memberships and marks in statements of 3 rows
    at most, so most end with a shorter statement."""
    monkeypatch.setattr("pipelines.state.sqlite.INSERT_ROWS", insert_rows)
    path = tmp_path / "state.sqlite"
    store = SqliteStateStore(path, memory_rows=memory_rows, cache_entries=10)
    reference, committed = InMemoryStateStore(), InMemoryStateStore()
    for op, name, value in _random_operations(seed, 600):
        if op == "commit":
            store.commit()
            committed = InMemoryStateStore()
            for table in ("items", "other"):
                for n in range(40):
                    if (stored := reference.get(f"{table}:{n}")) is not None:
                        committed.put(f"{table}:{n}", stored)
            for m in range(15):
                if (mark := reference.mark(f"m:{m}")) is not None:
                    committed.set_mark(f"m:{m}", mark)
        elif op == "mark":
            assert isinstance(name, str) and isinstance(value, int)
            store.set_mark(name, value)
            reference.set_mark(name, value)
        else:
            assert isinstance(name, str) and isinstance(value, StoredRow)
            store.put(name, value)
            reference.put(name, value)
        _same_reads(store, reference)
    if memory_rows == 25:
        assert not store.in_memory
    store.close()
    for reopen_rows in (memory_rows, 0, 1_000_000):
        reopened = SqliteStateStore(path, memory_rows=reopen_rows, cache_entries=10)
        try:
            _same_reads(reopened, committed)
            reopened.put("items:0", StoredRow((9, 9), row(0), ("a",)))  # then written by a store of this kind
            reopened.commit()
            committed.put("items:0", StoredRow((9, 9), row(0), ("a",)))
        finally:
            reopened.close()


def test_reads_of_a_spilled_store_see_rows_a_commit_is_still_writing(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite", memory_rows=0, cache_entries=1)
    for i in range(30_000):
        store.put(f"items:{i}", StoredRow((0, i), {"id": str(i)}, (f"g{i % 3}",)))
    saving = threading.Thread(target=store.commit)
    saving.start()
    seen = [store.get(f"items:{i}") for i in range(0, 30_000, 7)]
    members = len(store.members("g1"))
    saving.join()
    store.close()
    assert seen == [StoredRow((0, i), {"id": str(i)}, (f"g{i % 3}",)) for i in range(0, 30_000, 7)]
    assert members == 10_000


def test_a_state_file_of_the_first_schema_opens_with_its_groups(tmp_path: Path) -> None:
    """Files written before memberships had a table of their own keep working."""
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE rows (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
        old.execute("CREATE TABLE marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
        old.execute("INSERT INTO rows VALUES (?, ?)", ("items:1", orjson.dumps({"v": [1, 5], "r": row(1), "g": ["a"]})))
        old.execute("INSERT INTO marks VALUES ('m', 5)")
    for memory_rows in (0, 100):
        store = SqliteStateStore(path, memory_rows=memory_rows)
        try:
            assert store.members("a") == [("items:1", StoredRow((1, 5), row(1), ("a",)))]
            assert store.mark("m") == 5
        finally:
            store.close()


def test_a_state_file_keyed_by_key_alone_is_clustered_by_home_when_opened(tmp_path: Path) -> None:
    """Files of the layout before rows were clustered by their first group (sessions up to
    the 1M run) open with their rows, groups and marks, in memory or served from the file."""
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE rows (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
        old.execute("CREATE TABLE marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
        old.execute("CREATE TABLE members (grp TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (grp, key)) WITHOUT ROWID")
        old.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
        for n, groups in ((1, ["a", "both"]), (2, ["b", "both"]), (3, [])):
            old.execute("INSERT INTO rows VALUES (?, ?)",
                        (f"items:{n}", orjson.dumps({"v": [1, n], "r": row(n), "g": groups})))
            old.executemany("INSERT INTO members VALUES (?, ?)", [(g, f"items:{n}") for g in groups])
        old.execute("INSERT INTO rows VALUES (?, ?)", ("items:4", orjson.dumps({"v": [1, 4], "r": None, "g": []})))
        old.execute("INSERT INTO meta VALUES ('members', 1)")
        old.execute("INSERT INTO marks VALUES ('m', 5)")
    for memory_rows in (0, 100, 0):
        store = SqliteStateStore(path, memory_rows=memory_rows)
        try:
            assert store.in_memory == (memory_rows > 0)
            assert sorted(store.members("both")) == [("items:1", StoredRow((1, 1), row(1), ("a", "both"))),
                                                     ("items:2", StoredRow((1, 2), row(2), ("b", "both")))]
            assert [k for k, _ in store.members("a")] == ["items:1"]
            assert store.get("items:3") == StoredRow((1, 3), row(3), ())
            assert store.get("items:4") == StoredRow((1, 4), None, ())
            assert sorted(k for k, _ in store.scan("items")) == ["items:1", "items:2", "items:3"]
            assert len(store) == 4
            assert store.mark("m") == 5
            store.put("items:1", StoredRow((1, 9), row(9), ("b", "both")))  # then moved home by this layout
            store.commit()
        finally:
            store.close()
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT home FROM rows WHERE key = 'items:1'").fetchall() == [("b",)]
        with sqlite3.connect(path) as raw:  # back to the first state for the next pass
            raw.execute("UPDATE rows SET home = 'a', value = ? WHERE key = 'items:1'",
                        (orjson.dumps({"v": [1, 1], "r": row(1), "g": ["a", "both"]}),))
            raw.execute("UPDATE keys SET home = 'a' WHERE key = 'items:1'")
            raw.execute("UPDATE meta SET value = 0 WHERE name = 'indexed'")


def test_a_large_commit_does_not_leave_a_write_ahead_log_of_its_size(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipelines.state.sqlite.WAL_SIZE_LIMIT", 256 * 1024)
    store = SqliteStateStore(tmp_path / "state.sqlite", memory_rows=0)
    wal = tmp_path / "state.sqlite-wal"
    try:
        # About 24 MB of rows in one commit (what a spill does with all of them): past the 1,000
        # pages (16 MB) at which SQLite checkpoints after a commit.
        for n in range(20_000):
            store.put(f"items:{n}", StoredRow((1, n), {"body": "x" * 1000, "n": n}, (f"g{n % 50}",)))
        store.commit()
        grown = wal.stat().st_size
        for n in range(3):  # later, ordinary commits
            store.put(f"items:{n}", StoredRow((2, n), row(n), (f"g{n % 50}",)))
            store.commit()
        assert grown > 16 * 1024 * 1024
        assert wal.stat().st_size <= 256 * 1024
        assert store.get("items:19999") == StoredRow((1, 19999), {"body": "x" * 1000, "n": 19999}, ("g49",))
    finally:
        store.close()
