"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

Each test database is cloned from a migrated template, so every test starts from the
schema at head with no rows, in about a tenth of a second.
"""

from __future__ import annotations

import gc
import shutil
import socket
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ulid import ULID

from migrations import runner
from rustok.postgres import EmbeddedPostgres, ServerInfo, drop_database, ensure_database

pytest_plugins = ["tests.fixtures_kafka"]

TEMPLATE = "rustok_template"

# Where each socket of the test process was made (by id), so that one found unclosed can be
# traced to its code: a ResourceWarning names only the socket.
_SOCKET_ORIGINS: dict[int, str] = {}
_socket_init = socket.socket.__init__


def _traced_socket_init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    _socket_init(self, *args, **kwargs)
    _SOCKET_ORIGINS[id(self)] = "".join(traceback.format_stack(limit=14)[:-1])


socket.socket.__init__ = _traced_socket_init  # type: ignore[method-assign]


_LEAKS: list[str] = []


def _note_leak(warning: warnings.WarningMessage, during: str) -> None:
    origin = _SOCKET_ORIGINS.get(id(warning.source), "(origin unknown)\n")
    _LEAKS.append(f"leaked ({during}): {warning.message}\nmade at:\n{origin}")


def pytest_warning_recorded(warning_message: warnings.WarningMessage, when: str, nodeid: str) -> None:
    if issubclass(warning_message.category, ResourceWarning):
        _note_leak(warning_message, nodeid or when)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect what the tests left in reference cycles, noting every resource found unclosed.

    A cycle holding an unclosed socket is otherwise finalized during pytest's own exit, where
    its ResourceWarning ends the run with a traceback that names no test and no code.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    for warning in caught:
        if issubclass(warning.category, ResourceWarning):
            _note_leak(warning, "at the end")


def _report_leaks(write: Callable[[str], object]) -> None:
    """Name each resource noted unclosed since the last report, with where its socket was made."""
    for text in _LEAKS:
        write(text)
    _LEAKS.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Here, not in sessionfinish: other plugins' sessionfinish (the cache's files) run after
    # ours, and a collection they trigger can finalize a socket; its warning is still summarized.
    _report_leaks(terminalreporter.write_line)


def pytest_unconfigure() -> None:
    _report_leaks(lambda text: sys.stderr.write(text + "\n"))


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
