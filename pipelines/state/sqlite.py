"""A durable state store in one SQLite file (stdlib ``sqlite3``, WAL mode).

The whole state lives in memory (an :class:`InMemoryStateStore`) and changes are
written behind: :meth:`SqliteStateStore.commit` writes every key and mark changed
since the last commit in one transaction. Reopening the file after a crash loads the
state of the last commit. The price is that state must fit in memory; it is one row
per captured row plus small marks, about 1 KB per row.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson

from pipelines.errors import StateStoreError
from pipelines.state.memory import InMemoryStateStore
from pipelines.state.port import StoredRow

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
)


def _encode(value: StoredRow) -> bytes:
    return orjson.dumps({"v": value.version, "r": value.row, "g": value.groups})


def _decode(blob: bytes) -> StoredRow:
    data = orjson.loads(blob)
    flag, lsn = data["v"]
    return StoredRow((flag, lsn), data["r"], tuple(data["g"]))


class SqliteStateStore:
    """A :class:`~pipelines.state.port.StateStore` persisted to ``path`` at each commit.

    Parameters:
        path: the SQLite file (created with its tables if missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # Only takes effect when the file is new (before WAL is set): rows are ~0.5 KB, and
            # a snapshot's first commit writes all of them; 16 KB pages cut its CPU by ~30%.
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL, not NORMAL: under WAL, NORMAL survives a process crash but may lose the
            # last commits on power loss, and the runner acknowledges the source position
            # right after a commit; a lost acknowledged commit would never be replayed.
            self._db.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._memory = self._load()
        except (sqlite3.Error, orjson.JSONDecodeError, KeyError, ValueError) as exc:
            raise StateStoreError(f"cannot open state store {self.path}: {exc}") from exc
        self._dirty_rows: set[str] = set()
        self._dirty_marks: set[str] = set()

    def _load(self) -> InMemoryStateStore:
        memory = InMemoryStateStore()
        for key, blob in self._db.execute("SELECT key, value FROM rows"):
            memory.put(key, _decode(blob))
        for name, value in self._db.execute("SELECT name, value FROM marks"):
            memory.set_mark(name, value)
        log.info("state store loaded", extra={"path": str(self.path), "rows": len(memory)})
        return memory

    def get(self, key: str) -> StoredRow | None:
        return self._memory.get(key)

    def put(self, key: str, value: StoredRow) -> None:
        self._memory.put(key, value)
        self._dirty_rows.add(key)

    def members(self, group: str) -> list[tuple[str, StoredRow]]:
        return self._memory.members(group)

    def scan(self, table: str) -> Iterator[tuple[str, StoredRow]]:
        return self._memory.scan(table)

    def mark(self, name: str) -> int | None:
        return self._memory.mark(name)

    def set_mark(self, name: str, value: int) -> None:
        self._memory.set_mark(name, value)
        self._dirty_marks.add(name)

    def commit(self) -> None:
        """Write every change since the last commit in one durable transaction.

        Changes made by another thread while this runs (puts during a snapshot's saving
        ahead) are not lost: they stay dirty for the next commit.
        """
        # Taken whole first: what is put from now on belongs to the next commit.
        dirty_rows, self._dirty_rows = self._dirty_rows, set()
        dirty_marks, self._dirty_marks = self._dirty_marks, set()
        if not dirty_rows and not dirty_marks:
            return
        # In key order: B-tree inserts then walk the pages once instead of jumping around.
        # A generator, so a snapshot-sized commit never holds every encoded row at once.
        get = self._memory.get
        rows = ((key, _encode(value)) for key in sorted(dirty_rows) if (value := get(key)) is not None)
        marks = [(name, mark) for name in dirty_marks if (mark := self._memory.mark(name)) is not None]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO rows (key, value) VALUES (?, ?)", rows)
            self._db.executemany("INSERT OR REPLACE INTO marks (name, value) VALUES (?, ?)", marks)
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._dirty_rows |= dirty_rows
            self._dirty_marks |= dirty_marks
            if isinstance(exc, sqlite3.Error):
                raise StateStoreError(f"cannot commit state store {self.path}: {exc}") from exc
            raise

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return len(self._memory)
