"""A durable state store in one SQLite file (stdlib ``sqlite3``, WAL mode), in bounded memory.

The file holds rows and marks. Rows are clustered by their *home*, the first group they
belong to (a root-table row's root, a tenant's category tree, ...; ``''`` for tombstones and
rows without groups): ``rows`` is keyed by (home, key) and carries the stored value. So
"every row of this root", what building a document asks, is one range of the file, and
building roots in root order walks the file in order; at 1M products, with rows keyed by
``table:uuid`` alone, each root's ~25 rows were ~25 random reads of a 20 GB file. While the
store serves reads from the file it also keeps two indexes: ``keys`` (key → home) and
``members`` (the groups of a row past its home: a product among its tenant's roots, a
category link under its category). Changes are written behind:
:meth:`SqliteStateStore.commit` writes every row and mark changed since the last commit
in one transaction, so reopening the file after a crash gives the state of the last commit.

Reads are served two ways:

* **in memory** while the state has at most ``memory_rows`` rows: a whole copy lives in
  an :class:`InMemoryStateStore` (dict reads, the fast path of a rebuild; about 1.7 KB of
  memory per row), and commits write the rows only;
* **from the file** past that: the copy of the rows is dropped ("spilled"), the indexes
  are built once from the rows and kept up to date from then on, and row reads go
  through the changes not yet committed, then a bounded cache of recent reads, then
  SQLite. Marks stay in memory (a dict): there is about one per root, some 1.3M at 1M
  products (about 200 MB), and a snapshot raises the mark of a root once per row of it, so
  reading them from the file took 40% of a spilled snapshot's applying thread. Memory
  stays bounded by the roots however large the state grows: a rebuild of 1M products
  holds about 25M rows, some 40 GB as Python objects. A store opened empty (a rebuild)
  remembers the keys it wrote in a Bloom filter, so the misses of a snapshot (every row is new) never
  read the file; and a layer may hold at most ``max_unsaved`` rows while a commit writes
  the one before, so applying cannot outrun saving.

Either way the uncommitted changes are kept as *layers*: ``dirty`` (put since the last
commit began) and ``writing`` (being written by a commit in flight, possibly on another
thread: the runner saves a snapshot's state ahead while it goes on applying events).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipelines.errors import StateStoreError
from pipelines.state.memory import InMemoryStateStore
from pipelines.state.port import StoredRow

log = logging.getLogger(__name__)

DEFAULT_MEMORY_ROWS = 3_000_000
"""Rows kept whole in memory before the store spills (~5 GB; the 100k-product bench has 2.4M)."""
DEFAULT_CACHE_ENTRIES = 100_000
"""Rows a spilled store keeps from recent reads and writes."""
DEFAULT_MAX_UNSAVED = 100_000
"""Rows a spilled store's layer may hold while a commit writes the one before."""
WAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes the write-ahead log is cut back to once a checkpoint has emptied it. A spill writes
the whole state in one transaction, and the WAL file would otherwise keep that size (2 GB
beside a 1M-product state) for as long as the store is open."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rows (home TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (home, key)) WITHOUT ROWID",
    # keys and members are the indexes of a store serving reads from the file. 'indexed' in meta:
    # 1 while they match the rows; a store in memory writes rows only, and indexes them once
    # it spills (or opens a file past its memory).
    "CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, home TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS members (grp TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (grp, key))"
    " WITHOUT ROWID",
    # The groups of a row past its home.
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
)
_MISSING = object()
_GET = "SELECT r.value FROM keys k JOIN rows r ON r.home = k.home AND r.key = k.key WHERE k.key = ?"
_MEMBERS = ("SELECT key, value FROM rows WHERE home = ?1 UNION ALL "
            "SELECT m.key, r.value FROM members m JOIN keys k ON k.key = m.key"
            " JOIN rows r ON r.home = k.home AND r.key = m.key WHERE m.grp = ?1")
_SCAN = ("SELECT k.key, r.value FROM keys k JOIN rows r ON r.home = k.home AND r.key = k.key"
         " WHERE k.key >= ? AND k.key < ?")


def _home(groups: tuple[str, ...]) -> str:
    """Where a row with ``groups`` is kept in the file: its first group ('' for none)."""
    return groups[0] if groups else ""


def _encode(value: StoredRow) -> bytes:
    return orjson.dumps({"v": value.version, "r": value.row, "g": value.groups})


def _decode(blob: bytes) -> StoredRow:
    data = orjson.loads(blob)
    flag, lsn = data["v"]
    return StoredRow((flag, lsn), data["r"], tuple(data["g"]))


@dataclass(slots=True)
class _Layer:
    """Changes not yet committed: rows with an index of the groups they are live members of,
    marks, and each row's groups in the file once the layers before are written (None: not
    in it), so its commit can move the row between homes and update the memberships."""

    rows: dict[str, StoredRow] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)
    before: dict[str, tuple[str, ...] | None] = field(default_factory=dict)

    def put(self, key: str, value: StoredRow) -> None:
        old = self.rows.get(key)
        if old is not None:
            for group in old.groups:
                if group not in value.groups:
                    self.groups[group].discard(key)
        for group in value.groups:
            members = self.groups.get(group)
            if members is None:
                self.groups[group] = {key}
            else:
                members.add(key)
        self.rows[key] = value

    def __bool__(self) -> bool:
        return bool(self.rows or self.marks)


class _Cache(OrderedDict[str, object]):
    """Recent values by key, ``None`` included (a key known to be absent); the oldest go first."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def keep(self, key: str, value: object) -> None:
        if key in self:
            self.move_to_end(key)
        elif len(self) >= self.capacity:
            self.popitem(last=False)
        self[key] = value


class _Written:
    """A Bloom filter of the keys written: "not in it" means never written (no false negatives)."""

    def __init__(self, bits: int = 1 << 28) -> None:  # 32 MB: ~3% false positives at 30M keys
        self._bits = bytearray(bits >> 3)
        self._size = bits

    def _positions(self, key: str) -> tuple[int, int, int]:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        size = self._size
        return h % size, (h >> 21) % size, ((h >> 42) ^ (h * 0x9E3779B1)) % size

    def add(self, key: str) -> None:
        bits = self._bits
        for p in self._positions(key):
            bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, key: object) -> bool:
        assert isinstance(key, str)
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(key))


class SqliteStateStore:
    """A :class:`~pipelines.state.port.StateStore` persisted to ``path`` at each commit.

    Parameters:
        path: the SQLite file (created with its tables if missing).
        memory_rows: keep the whole state in memory up to this many rows; past it, serve
            reads from the file (0: always from the file).
        cache_entries: rows a store serving from the file keeps from recent use.
        max_unsaved: rows a store serving from the file may hold uncommitted while a commit
            runs on another thread; a put past it waits for that commit.
    """

    def __init__(self, path: str | Path, memory_rows: int = DEFAULT_MEMORY_ROWS,
                 cache_entries: int = DEFAULT_CACHE_ENTRIES, max_unsaved: int = DEFAULT_MAX_UNSAVED) -> None:
        self.path = Path(path)
        self.memory_rows = memory_rows
        self.max_unsaved = max_unsaved
        # Guards the layers: a commit swaps them on another thread while puts go on.
        self._lock = threading.Condition()
        self._dirty = _Layer()
        self._writing = _Layer()
        self._rows_cache = _Cache(cache_entries)
        self._marks: dict[str, int] = {}  # every mark, committed or not, once serving from the file
        self._memory: InMemoryStateStore | None = None
        self._written: _Written | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # Only takes effect when the file is new (before WAL is set): rows are ~0.5 KB, and
            # a snapshot's first commit writes all of them; 16 KB pages cut its CPU by ~30%.
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA journal_size_limit={int(WAL_SIZE_LIMIT)}")
            # FULL, not NORMAL: under WAL, NORMAL survives a process crash but may lose the
            # last commits on power loss, and the runner acknowledges the source position
            # right after a commit; a lost acknowledged commit would never be replayed.
            self._db.execute("PRAGMA synchronous=FULL")
            self._upgrade_layout()
            for statement in _SCHEMA:
                self._db.execute(statement)
            found = self._db.execute("SELECT value FROM meta WHERE name = 'indexed'").fetchone()
            self._indexed = bool(found and found[0])
            # Reads of a spilled store use their own connection: they see committed state only
            # (the layers cover the rest) and never wait on a commit writing on another thread.
            self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._reader.execute("PRAGMA query_only=ON")
            self._reader.execute("PRAGMA cache_size=-65536")  # 64 MB of pages; the OS caches the rest
            (rows,) = self._reader.execute("SELECT count(*) FROM (SELECT 1 FROM rows LIMIT ?)",
                                           (memory_rows + 1,)).fetchone()
            self._opened_empty = rows == 0
            if rows <= memory_rows:
                self._memory = self._load()
            else:
                self._keep_indexes()
                self._marks = dict(self._reader.execute("SELECT name, value FROM marks"))
        except (sqlite3.Error, orjson.JSONDecodeError, KeyError, ValueError) as exc:
            raise StateStoreError(f"cannot open state store {self.path}: {exc}") from exc
        log.info("state store opened", extra={"path": str(self.path), "in_memory": self._memory is not None})

    def _upgrade_layout(self) -> None:
        """Rewrite a file of the layout before rows were clustered by home (``rows`` keyed by
        key alone) into this one, in one transaction; its memberships are indexed again when
        a store serves from the file."""
        columns = [column[1] for column in self._db.execute("PRAGMA table_info(rows)")]
        if not columns or "home" in columns:
            return
        log.info("state store: clustering rows by group", extra={"path": str(self.path)})
        db = self._db
        with _transaction(db):
            db.execute("ALTER TABLE rows RENAME TO rows_by_key")
            for statement in _SCHEMA:
                db.execute(statement)
            old = db.cursor().execute("SELECT key, value FROM rows_by_key")
            _insert_many(db, "INSERT INTO keys (key, home)", 2,
                         ((key, _home(_decode(blob).groups)) for key, blob in old))
            db.execute("INSERT INTO rows (home, key, value) SELECT k.home, k.key, o.value FROM keys k"
                       " JOIN rows_by_key o ON o.key = k.key ORDER BY k.home, k.key")
            db.execute("DROP TABLE rows_by_key")
            db.execute("DELETE FROM members")  # they listed every group; now only those past the home
            db.execute("DELETE FROM meta WHERE name = 'members'")
            db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('indexed', 0)")

    def _load(self) -> InMemoryStateStore:
        memory = InMemoryStateStore()
        for key, blob in self._reader.execute("SELECT key, value FROM rows"):
            memory.put(key, _decode(blob))
        for name, value in self._reader.execute("SELECT name, value FROM marks"):
            memory.set_mark(name, value)
        return memory

    def _keep_indexes(self, memberships: Iterable[tuple[str, str]] | None = None) -> None:
        """Make the keys and members tables match the committed rows, if they do not yet, and
        keep them so (and give the writer a larger page cache: its commits are now random
        inserts into three B-trees; 256 MB made them about 1.16x faster at 1M products).

        A store in memory writes rows only; one about to serve reads from the file indexes
        them once here: ``memberships`` (group past the home, key) when the caller knows
        them, else read from the rows. No commit may be running.
        """
        self._db.execute("PRAGMA cache_size=-262144")
        if self._indexed:
            return
        log.info("state store: indexing keys and group memberships", extra={"path": str(self.path)})
        if memberships is None:
            memberships = ((group, key) for key, blob in self._reader.execute(
                "SELECT key, value FROM rows WHERE home != ''") for group in _decode(blob).groups[1:])
        db = self._db
        with _transaction(db):
            db.execute("DELETE FROM keys")
            db.execute("INSERT INTO keys (key, home) SELECT key, home FROM rows ORDER BY key")
            db.execute("DELETE FROM members")
            _insert_many(db, "INSERT INTO members (grp, key)", 2, memberships)
            db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('indexed', 1)")
        self._indexed = True

    @property
    def in_memory(self) -> bool:
        """Whether the whole state is served from memory (False once it outgrew ``memory_rows``)."""
        return self._memory is not None

    # -- reads ---------------------------------------------------------------------------

    def get(self, key: str) -> StoredRow | None:
        if self._memory is not None:
            return self._memory.get(key)
        cached = self._rows_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]  # only StoredRow or None are kept
        dirty, writing = self._layers()
        value = dirty.rows.get(key) or writing.rows.get(key)
        if value is None and self._may_be_in_file(key):
            found = self._read(_GET, (key,))
            value = _decode(found[0][0]) if found else None
        self._rows_cache.keep(key, value)
        return value

    def members(self, group: str) -> list[tuple[str, StoredRow]]:
        if self._memory is not None:
            return self._memory.members(group)
        # Layers first, the file after: a commit finishing in between only moves rows from
        # the layers into the file, and newer layers win either way.
        dirty, writing = self._layers()
        keys = set(dirty.groups.get(group, ())) | writing.groups.get(group, set())
        committed = dict(self._read(_MEMBERS, (group,)))
        keys.update(committed)
        result = []
        for key in sorted(keys):
            value = dirty.rows.get(key) or writing.rows.get(key)
            if value is None:
                value = _decode(committed[key])
            if value.row is not None and group in value.groups:
                result.append((key, value))
        return result

    def scan(self, table: str) -> Iterator[tuple[str, StoredRow]]:
        if self._memory is not None:
            yield from self._memory.scan(table)
            return
        prefix = table + ":"
        dirty, writing = self._layers()
        newest = {key: _decode(blob) for key, blob in self._read(_SCAN, (prefix, table + ";"))}
        for layer in (writing, dirty):
            newest.update((key, value) for key, value in layer.rows.items() if key.startswith(prefix))
        for key in sorted(newest):
            if newest[key].row is not None:
                yield key, newest[key]

    def mark(self, name: str) -> int | None:
        if self._memory is not None:
            return self._memory.mark(name)
        return self._marks.get(name)

    def _may_be_in_file(self, key: str) -> bool:
        return self._written is None or key in self._written

    def _layers(self) -> tuple[_Layer, _Layer]:
        """The uncommitted changes as one consistent pair (a commit swaps them on another thread)."""
        with self._lock:
            return self._dirty, self._writing

    def _read(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._reader.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StateStoreError(f"cannot read state store {self.path}: {exc}") from exc

    # -- writes --------------------------------------------------------------------------

    def put(self, key: str, value: StoredRow) -> None:
        memory = self._memory
        if memory is None:
            with self._lock:
                self._wait_for_room()
                layer = self._dirty
                if key not in layer.rows:
                    # The groups the file holds for the key once the layers before are written.
                    prior = self.get(key)
                    layer.before[key] = prior.groups if prior is not None else None
                layer.put(key, value)
                self._rows_cache.keep(key, value)
                if self._written is not None:
                    self._written.add(key)
            return
        with self._lock:
            rows = self._dirty.rows
            added = False
            if key not in rows:
                prior = memory.get(key)  # what the file holds once the layers before are written
                self._dirty.before[key] = prior.groups if prior is not None else None
                added = prior is None
            # The layer's group index serves reads from the file only: it is built if the store spills.
            rows[key] = value
            memory.put(key, value)
            if added and len(memory) > self.memory_rows:
                self._spill()

    def set_mark(self, name: str, value: int) -> None:
        with self._lock:
            self._dirty.marks[name] = value
            if self._memory is not None:
                self._memory.set_mark(name, value)
                return
            self._marks[name] = value

    def _wait_for_room(self) -> None:
        """Called with the lock held: while a commit writes a layer, let the next one grow only
        to ``max_unsaved`` rows (the commit's thread notifies when it is done)."""
        while len(self._dirty.rows) >= self.max_unsaved and self._writing:
            self._lock.wait()

    def _spill(self) -> None:
        """Called with the lock held: stop keeping the whole state in memory; reads go to the file."""
        memory = self._memory
        assert memory is not None
        log.info("state store outgrew memory: serving reads from the file",
                 extra={"path": str(self.path), "memory_rows": self.memory_rows})
        while self._writing:  # the memberships are indexed from committed rows, alone
            self._lock.wait()
        # The file holds what memory holds but the dirty layer, whose ``before`` says what the
        # file holds for its keys.
        dirty = self._dirty
        memberships = [(group, key) for key in memory.keys() if key not in dirty.rows
                       for group in memory.get(key).groups[1:]]  # type: ignore[union-attr]  # a key it holds
        memberships += [(group, key) for key, groups in dirty.before.items() if groups for group in groups[1:]]
        memberships.sort()
        self._keep_indexes(memberships)
        del memberships
        if self._opened_empty:  # every key the file or the layers hold was put since the open
            written = _Written()
            for key in memory.keys():
                written.add(key)
            self._written = written
        self._marks = memory.marks()
        self._memory = None
        dirty.groups = {}  # a store in memory does not index its layer (see put)
        for key, value in dirty.rows.items():
            for group in value.groups:
                dirty.groups.setdefault(group, set()).add(key)

    def commit(self) -> None:
        """Write every change since the last commit in one durable transaction.

        Changes made by another thread while this runs (puts during a snapshot's saving
        ahead) are not lost: they go to a new layer, written by the next commit.
        """
        with self._lock:
            layer, self._dirty = self._dirty, _Layer()
            self._writing = layer
            indexes = self._memory is None
        try:
            if layer:
                self._write(layer, indexes)
                if not indexes:
                    self._indexed = False
        except BaseException as exc:
            with self._lock:
                # Back under what was put meanwhile (newer), to be written by the next commit.
                for key, value in layer.rows.items():
                    if key not in self._dirty.rows:
                        self._dirty.put(key, value)
                        if key in layer.before:
                            self._dirty.before[key] = layer.before[key]
                    elif key in layer.before:
                        self._dirty.before[key] = layer.before[key]  # the file still holds these
                for name, mark in layer.marks.items():
                    self._dirty.marks.setdefault(name, mark)
                self._writing = _Layer()
                self._lock.notify_all()
            if isinstance(exc, sqlite3.Error):
                raise StateStoreError(f"cannot commit state store {self.path}: {exc}") from exc
            raise
        with self._lock:
            self._writing = _Layer()
            self._lock.notify_all()

    def _write(self, layer: _Layer, indexes: bool) -> None:
        """Write ``layer``; with ``indexes``, its changes of keys and group membership too, else
        mark those indexes stale (a store in memory never reads them)."""
        # Each table in its key order: B-tree inserts then walk the pages once instead of
        # jumping around. Generators, so a snapshot-sized commit never holds every encoded row.
        rows, before = layer.rows, layer.before
        homes = {key: _home(value.groups) for key, value in rows.items()}
        filed = {key: _home(prior) for key in rows if (prior := before[key]) is not None}  # homes in the file
        left = sorted((filed[key], key) for key, home in homes.items() if key in filed and filed[key] != home)
        db = self._db
        with _transaction(db):
            db.executemany("DELETE FROM rows WHERE home = ? AND key = ?", left)
            _insert_many(db, "INSERT OR REPLACE INTO rows (home, key, value)", 3,
                         ((home, key, _encode(rows[key])) for home, key in sorted((h, k) for k, h in homes.items())))
            if indexes:
                moved = sorted(key for key, home in homes.items() if filed.get(key) != home)
                _insert_many(db, "INSERT OR REPLACE INTO keys (key, home)", 2, ((key, homes[key]) for key in moved))
                keys = sorted(rows)
                db.executemany("DELETE FROM members WHERE grp = ? AND key = ?", (
                    (group, key) for key in keys for group in _past_home(before[key])
                    if group not in rows[key].groups[1:]))
                _insert_many(db, "INSERT OR IGNORE INTO members (grp, key)", 2, (
                    (group, key) for key in keys for group in rows[key].groups[1:]
                    if group not in _past_home(before[key])))
            elif self._indexed:
                db.execute("UPDATE meta SET value = 0 WHERE name = 'indexed'")
            _insert_many(db, "INSERT OR REPLACE INTO marks (name, value)", 2, layer.marks.items())

    def close(self) -> None:
        self._reader.close()
        self._db.close()

    def __len__(self) -> int:
        """Rows in the store, tombstones included (committed ones only once spilled)."""
        if self._memory is not None:
            return len(self._memory)
        (count,) = self._read("SELECT count(*) FROM keys", ())[0]
        return int(count)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed if the block ends, rolled back if it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


INSERT_ROWS = 2000
"""Rows per INSERT statement of a commit (fewer where SQLite allows fewer parameters)."""


def _insert_many(db: sqlite3.Connection, head: str, width: int, rows: Iterable[Sequence[object]]) -> None:
    """``head VALUES (?, ...), (?, ...), ...``: up to :data:`INSERT_ROWS` rows of ``width`` values
    per statement, in the order given.

    Not ``executemany``: sqlite3 gives up the GIL around each statement's step and takes it
    back before the next row, so a commit on a side thread waited for the GIL once per row
    while the runner's thread was busy (a snapshot's 230k rows took 18-19 s of wall time for
    4 s of CPU; a scratch loop of 100k rows beside a busy thread, 132 s against 0.84 s this
    way). A statement of many rows takes it back once per statement.
    """
    per = max(1, min(INSERT_ROWS, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    row = "(" + ", ".join("?" * width) + ")"
    full = f"{head} VALUES {', '.join([row] * per)}"
    chunk: list[object] = []
    count = 0
    for values in rows:
        chunk.extend(values)
        count += 1
        if count == per:
            db.execute(full, chunk)
            chunk, count = [], 0
    if count:
        db.execute(f"{head} VALUES {', '.join([row] * count)}", chunk)


def _past_home(groups: tuple[str, ...] | None) -> tuple[str, ...]:
    return groups[1:] if groups else ()
