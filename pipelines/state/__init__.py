"""State stores for the projection core: the port and its implementations.

* :class:`StateStore` — the port (a Protocol) the core calls;
* :class:`InMemoryStateStore` — dicts, for tests and ephemeral runs;
* :class:`SqliteStateStore` — one SQLite file, durable at each ``commit()``.
"""

from __future__ import annotations

from pipelines.state.memory import InMemoryStateStore
from pipelines.state.port import StateStore, StoredRow, Version
from pipelines.state.sqlite import SqliteStateStore

__all__ = ["InMemoryStateStore", "SqliteStateStore", "StateStore", "StoredRow", "Version"]
