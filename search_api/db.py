"""A small pool of psycopg connections for the read side.

SQLAlchemy's ``QueuePool`` pools raw psycopg connections (psycopg_pool is not pinned);
the search API runs plain SQL on the read tables and needs no ORM. Connections are in
autocommit: every statement is a read that sees the newest committed sink writes.

Every statement has a time limit (``statement_timeout``): a storefront query that would run
for seconds is cancelled by PostgreSQL and answered 503 (retry, or narrow the query), so a
burst of slow queries cannot leave the database working off requests nobody waits for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from search_api.errors import BackendUnavailable

log = logging.getLogger(__name__)


def to_libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (``postgresql+psycopg://``) as well as libpq ones."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgresql+") else url


class Database:
    """Parameters: ``size`` connections (and as many more under load); ``statement_timeout_ms``
    per statement (0: none)."""

    def __init__(self, url: str, size: int = 8, statement_timeout_ms: int = 5000) -> None:
        self._url = to_libpq_url(url)
        self.statement_timeout_ms = statement_timeout_ms
        creator: Any = self._connect
        self._pool = QueuePool(creator, pool_size=size, max_overflow=size, timeout=5, pre_ping=False)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._url, autocommit=True, row_factory=tuple_row,
                               options=f"-c statement_timeout={self.statement_timeout_ms}")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            fairy = self._pool.connect()
        except PoolTimeout as error:
            log.warning("read database pool exhausted", extra={"error": str(error)})
            raise BackendUnavailable("the server is overloaded; retry shortly") from error
        except psycopg.OperationalError as error:
            log.warning("read database unavailable", extra={"error": str(error)})
            raise BackendUnavailable("the read database is not reachable") from error
        try:
            yield cast(psycopg.Connection[Any], fairy.dbapi_connection)
        except psycopg.errors.QueryCanceled as error:  # the connection stays usable
            log.warning("read query cancelled", extra={"statement_timeout_ms": self.statement_timeout_ms})
            raise BackendUnavailable(f"the query ran longer than {self.statement_timeout_ms} ms and was cancelled;"
                                     " retry, or narrow it") from error
        except psycopg.OperationalError as error:
            fairy.invalidate()
            raise BackendUnavailable("the read database failed") from error
        finally:
            fairy.close()

    def fetch_all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as conn:
            return conn.execute(sql.encode(), params).fetchall()

    def fetch_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> tuple[Any, ...] | None:
        with self.connection() as conn:
            return conn.execute(sql.encode(), params).fetchone()

    def close(self) -> None:
        self._pool.dispose()
