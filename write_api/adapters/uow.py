"""SqlUnitOfWork: the unit of work over one PostgreSQL connection, scoped to one tenant."""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import UUID

import sqlalchemy as sa

from contracts.consistency import encode_token
from write_api.adapters.auth_repo import AuthRepository
from write_api.adapters.commerce_repo import CatalogRepository, OrderRepository, ProductRepository
from write_api.adapters.content_repo import NodeRepository
from write_api.adapters.flex_repo import FlexRepository
from write_api.adapters.outbox import OutboxWriter
from write_api.adapters.tables import TenantTables, driver_connection

_WAL_POSITION = b"SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint"
# The transaction id as it appears in the xmin of every row the transaction wrote (the
# 32-bit xid without its epoch): the ETag version of rows inserted with insert_later.
_XMIN = b"SELECT pg_current_xact_id()::text::bigint % 4294967296"


class SqlUnitOfWork:
    def __init__(self, engine: sa.Engine, tenant_id: UUID, request_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        self.request_id = request_id
        self._conn: sa.Connection | None = None
        self._committed = False
        self.written_version: int | None = None

    def __enter__(self) -> Self:
        conn = self._conn = self._engine.connect()
        conn.begin()
        tables = self._tables = TenantTables(conn, self.tenant_id)
        self.products = ProductRepository(tables)
        self.catalog = CatalogRepository(tables)
        self.orders = OrderRepository(tables)
        self.nodes = NodeRepository(tables)
        self.flex = FlexRepository(tables)
        self.auth = AuthRepository(tables)
        self.outbox = OutboxWriter(conn, self.tenant_id, self.request_id)
        self._committed = False
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._committed:
                conn.rollback()
        finally:
            conn.close()

    def commit(self) -> str:
        assert self._conn is not None, "commit() outside 'with uow:'"
        # One round trip: the rows held for the commit, the buffered outbox rows, the
        # transaction's xid, COMMIT, and the WAL position read right after it on the same
        # connection (an upper bound of our commit's position).
        driver = driver_connection(self._conn)
        xmin, cursor = driver.cursor(), driver.cursor()
        with self._tables.pipelined():
            self._tables.flush_later()
            self.outbox.flush()
            xmin.execute(_XMIN)
            cursor.execute(b"COMMIT")
            cursor.execute(_WAL_POSITION)
        self._committed = True
        row, version = cursor.fetchone(), xmin.fetchone()
        assert row is not None and version is not None
        self.written_version = int(version[0])
        self._conn.rollback()  # tell SQLAlchemy the transaction is over (no round trip: the driver is idle)
        return encode_token(int(row[0]))
