"""Fixtures for the projection core: every test runs against both state stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core import Projector
from pipelines.state import InMemoryStateStore, SqliteStateStore, StateStore

from .builders import Stream


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield InMemoryStateStore()
        return
    sqlite = SqliteStateStore(tmp_path / "state.sqlite")
    yield sqlite
    sqlite.close()


@pytest.fixture
def projector(store: StateStore) -> Projector:
    return Projector(store)


@pytest.fixture
def stream() -> Stream:
    return Stream()
