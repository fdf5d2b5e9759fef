"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

Each test database is cloned from a migrated template, so every test starts from the
schema at head with no rows, in about a tenth of a second.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ulid import ULID

from migrations import runner
from rustok.postgres import EmbeddedPostgres, ServerInfo, drop_database, ensure_database

pytest_plugins = ["tests.fixtures_kafka"]

TEMPLATE = "rustok_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ServerInfo]:
    # Not under pytest's tmp_path: pytest prunes old basetemp folders when another
    # session starts, which would pull the data directory from under a running server.
    root = Path(tempfile.mkdtemp(prefix="rustok-test-pg-"))
    server = EmbeddedPostgres(root / "postgres", preferred_port=55432)
    info = server.start()
    yield info
    server.destroy()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_url(pg_server: ServerInfo) -> str:
    return pg_server.url("postgres")


@pytest.fixture(scope="session")
def migrated_template(pg_server: ServerInfo, admin_url: str) -> str:
    drop_database(admin_url, TEMPLATE)
    ensure_database(admin_url, TEMPLATE)
    runner.upgrade(pg_server.url(TEMPLATE))
    return TEMPLATE


def _fresh_database(admin_url: str, pg_server: ServerInfo, template: str) -> Iterator[str]:
    name = f"t_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=template)
    yield pg_server.url(name)
    drop_database(admin_url, name)


@pytest.fixture
def empty_database_url(admin_url: str, pg_server: ServerInfo) -> Iterator[str]:
    """A database with nothing in it (not even migrations)."""
    yield from _fresh_database(admin_url, pg_server, "template0")


@pytest.fixture
def database_url(admin_url: str, pg_server: ServerInfo, migrated_template: str) -> Iterator[str]:
    """A database migrated to head, with no rows."""
    yield from _fresh_database(admin_url, pg_server, migrated_template)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(runner.sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
