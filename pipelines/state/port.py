"""The state-store port: versioned rows, group membership, and integer marks.

The projection core keeps, per captured row, the newest version it has seen and the
row itself (``None`` for a tombstone). A row also names the *groups* it belongs to
(its root, the dimension rows it references, its tenant's dimension sets); the store
indexes live rows by group so the core can ask "every row of this root" or "every row
referencing this category" without scanning. Marks are named integers (root versions,
truncate watermarks, dimension high-water marks).

Keys and values are simple on purpose: string keys, JSON-serialisable values, so the
same port fits a dict, SQLite, or Faust tables with changelog topics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Version = tuple[int, int]
"""(0 for a snapshot read, 1 for a streamed change; source LSN)."""


@dataclass(frozen=True, slots=True)
class StoredRow:
    """Parameters:
    version: the version of the newest fact about this row.
    row: the row in Debezium JSON form (as validated by its contract); None once deleted.
    groups: groups the row is a live member of; a tombstone belongs to none.
    """

    version: Version
    row: dict[str, Any] | None
    groups: tuple[str, ...] = ()


class StateStore(Protocol):
    """Where the projection core keeps its state between events.

    Writes become durable only at :meth:`commit`; reopening a durable store after a
    crash gives the state of the last commit.
    """

    def get(self, key: str) -> StoredRow | None:
        """The stored row (or tombstone) under ``key`` (``"<table>:<id>"``), or None."""

    def put(self, key: str, value: StoredRow) -> None:
        """Store ``value`` under ``key``, moving the key out of groups it left and into new ones."""

    def members(self, group: str) -> list[tuple[str, StoredRow]]:
        """Live rows of ``group`` as (key, row), in no particular order."""

    def scan(self, table: str) -> Iterator[tuple[str, StoredRow]]:
        """Every live row whose key belongs to ``table`` (for truncates; may be slow)."""

    def mark(self, name: str) -> int | None:
        """The integer mark ``name``, or None if never set."""

    def set_mark(self, name: str, value: int) -> None:
        """Set the integer mark ``name``."""

    def commit(self) -> None:
        """Make every change so far durable (a no-op for memory stores)."""

    def close(self) -> None:
        """Release resources; uncommitted changes are lost."""
