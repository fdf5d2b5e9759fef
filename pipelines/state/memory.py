"""The in-memory state store: dicts and group indexes, nothing durable.

Used by unit tests and as the cache inside :class:`~pipelines.state.sqlite.SqliteStateStore`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipelines.state.port import StoredRow


class InMemoryStateStore:
    """A real :class:`~pipelines.state.port.StateStore` over dicts."""

    def __init__(self) -> None:
        self._rows: dict[str, StoredRow] = {}
        # group → keys; dicts as ordered sets so iteration order is stable.
        self._groups: dict[str, dict[str, None]] = {}
        self._marks: dict[str, int] = {}

    def get(self, key: str) -> StoredRow | None:
        return self._rows.get(key)

    def put(self, key: str, value: StoredRow) -> None:
        old = self._rows.get(key)
        old_groups = old.groups if old is not None else ()
        if old_groups != value.groups:
            for group in old_groups:
                if group not in value.groups:
                    self._leave(group, key)
            for group in value.groups:
                self._groups.setdefault(group, {})[key] = None
        self._rows[key] = value

    def _leave(self, group: str, key: str) -> None:
        members = self._groups.get(group)
        if members is not None:
            members.pop(key, None)
            if not members:
                del self._groups[group]

    def members(self, group: str) -> list[tuple[str, StoredRow]]:
        keys = self._groups.get(group)
        if not keys:
            return []
        rows = self._rows
        return [(key, rows[key]) for key in keys]

    def scan(self, table: str) -> Iterator[tuple[str, StoredRow]]:
        prefix = table + ":"
        for key, value in list(self._rows.items()):
            if value.row is not None and key.startswith(prefix):
                yield key, value

    def mark(self, name: str) -> int | None:
        return self._marks.get(name)

    def set_mark(self, name: str, value: int) -> None:
        self._marks[name] = value

    def commit(self) -> None:
        return None

    def close(self) -> None:
        return None

    def keys(self) -> Iterator[str]:
        """Every key held, tombstones included."""
        return iter(self._rows)

    def marks(self) -> dict[str, int]:
        """A copy of every mark."""
        return dict(self._marks)

    def __len__(self) -> int:
        return len(self._rows)
