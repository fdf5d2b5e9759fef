"""Fixtures for the projection core: every test runs against every state store (SQLite twice:
serving reads from memory, and from its file as it does once the state outgrows memory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core import Projector
from pipelines.state import InMemoryStateStore, SqliteStateStore, StateStore
from pipelines.state.sqlite import DEFAULT_MEMORY_ROWS

from .builders import Stream


@pytest.fixture(params=["memory", "sqlite", "sqlite_from_file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield InMemoryStateStore()
        return
    memory_rows = 0 if request.param == "sqlite_from_file" else DEFAULT_MEMORY_ROWS
    sqlite = SqliteStateStore(tmp_path / "state.sqlite", memory_rows=memory_rows)
    yield sqlite
    sqlite.close()


@pytest.fixture
def projector(store: StateStore) -> Projector:
    return Projector(store)


@pytest.fixture
def stream() -> Stream:
    return Stream()
