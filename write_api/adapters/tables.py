"""A tenant-scoped gateway over the write tables.

Every statement built here carries ``tenant_id = :tenant`` (and inserts stamp it), so
no repository, handler or route can forget the tenant filter: there is no other way
to reach tenant tables from the service layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contracts.ids import new_id
from write_api.adapters.bulk import send_inserts
from write_api.adapters.constraints import translate
from write_api.errors import NotFound, PreconditionFailed

Row = dict[str, Any]
VERSION: sa.Label[Any] = sa.literal_column("xmin::text::bigint").label("version")


def table_of(model: type[Any]) -> sa.Table:
    """A mapped class's Table (typed as such; ``__table__`` is typed as a FromClause)."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


def columns(table: sa.Table) -> list[Any]:
    """The table's columns plus the row version; a column itself named ``version`` (a Flex
    schema's definition counter) is read as ``definition_version`` so the two never clash."""
    cols: list[Any] = [c.label("definition_version") if c.name == "version" else c for c in table.c]
    return [*cols, VERSION]


def driver_connection(conn: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under ``conn`` (for pipelining, which SQLAlchemy does not expose)."""
    return cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)


class TenantTables:
    """Reads and writes limited to one tenant. ``conn`` is inside the unit of work's transaction."""

    def __init__(self, conn: sa.Connection, tenant_id: UUID) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self._pending: list[tuple[sa.Table, list[Row]]] = []

    def _scoped(self, table: sa.Table, where: Iterable[sa.ColumnElement[bool]]) -> list[sa.ColumnElement[bool]]:
        return [table.c.tenant_id == self.tenant_id, *where]

    def execute(self, statement: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:
        try:
            return self.conn.execute(statement, params)
        except IntegrityError as error:
            raise translate(error) from error

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Send the statements run inside without waiting for each one's result: the whole
        batch costs one network round trip. Only for statements whose results nothing reads
        inside the block (plain inserts); a violation surfaces at the latest on leaving it."""
        try:
            with driver_connection(self.conn).pipeline():
                yield
        except psycopg.errors.IntegrityError as error:
            raise translate(IntegrityError(None, None, error)) from error

    def _stamp(self, table: sa.Table, rows: Sequence[Row]) -> list[Row]:
        has_id = "id" in table.c
        return [{**row, "tenant_id": self.tenant_id, **({"id": row.get("id") or new_id()} if has_id else {})}
                for row in rows]

    def insert(self, table: sa.Table, rows: Sequence[Row]) -> list[Row]:
        """Insert rows (ids generated when absent); returns the rows as written."""
        if not rows:
            return []
        stamped = self._stamp(table, rows)
        self.execute(sa.insert(table), stamped)
        return stamped

    def insert_later(self, table: sa.Table, rows: Sequence[Row]) -> list[Row]:
        """Stamp rows now and send them with the unit of work's commit, in the same round
        trip as the COMMIT. For inserts nothing reads back before the commit; violations
        surface from ``commit()``."""
        stamped = self._stamp(table, rows)
        if stamped:
            self._pending.append((table, stamped))
        return stamped

    def flush_later(self) -> None:
        """Send the rows held by ``insert_later``, in the order they were added (inside the
        commit's pipeline: violations surface when it syncs)."""
        pending, self._pending = self._pending, []
        driver = driver_connection(self.conn)
        for table, rows in pending:
            send_inserts(driver, table, rows)

    def insert_returning(self, table: sa.Table, row: Row) -> Row:
        """Insert one row, returning every column and its version."""
        stamped = {**row, "tenant_id": self.tenant_id, "id": row.get("id") or new_id()}
        result = self.execute(sa.insert(table).values(stamped).returning(*columns(table)))
        return dict(result.mappings().one())

    def select(
        self,
        table: sa.Table,
        *where: sa.ColumnElement[bool],
        order_by: Sequence[sa.ColumnElement[Any]] | None = None,
        limit: int | None = None,
        versioned: bool = False,
    ) -> list[Row]:
        selected = columns(table) if versioned else columns(table)[:-1]
        statement = sa.select(*selected).where(*self._scoped(table, where))
        statement = statement.order_by(*(order_by if order_by is not None else [table.c.id]))
        if limit is not None:
            statement = statement.limit(limit)
        return [dict(r) for r in self.execute(statement).mappings()]

    def get(self, table: sa.Table, id_: UUID, *, lock: bool = False) -> Row | None:
        statement = sa.select(*columns(table)).where(*self._scoped(table, [table.c.id == id_]))
        if lock:
            statement = statement.with_for_update()
        row = self.execute(statement).mappings().one_or_none()
        return dict(row) if row is not None else None

    def require(self, table: sa.Table, id_: UUID, what: str, *, lock: bool = False) -> Row:
        row = self.get(table, id_, lock=lock)
        if row is None:
            raise NotFound(f"no {what} with id {id_}")
        return row

    def existing_ids(self, table: sa.Table, ids: Iterable[UUID]) -> set[UUID]:
        wanted = set(ids)
        if not wanted:
            return set()
        statement = sa.select(table.c.id).where(*self._scoped(table, [table.c.id.in_(wanted)]))
        return set(self.execute(statement).scalars())

    def update(self, table: sa.Table, values: Row, *where: sa.ColumnElement[bool]) -> int:
        statement = sa.update(table).where(*self._scoped(table, where)).values(values)
        return self.execute(statement).rowcount

    def delete(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        return self.execute(sa.delete(table).where(*self._scoped(table, where))).rowcount

    def touch(self, table: sa.Table, id_: UUID, what: str, if_match: int | None, values: Row | None = None) -> Row:
        """Check the version, lock the root row, apply ``values`` and bump ``updated_at``.

        One statement does all four, so two writers holding the same ETag cannot both
        win: the second re-evaluates ``xmin`` after the first commits and gets 412.
        """
        changes = dict(values or {})
        if "updated_at" in table.c:
            changes["updated_at"] = sa.func.now()
        elif not changes:
            changes = {"id": table.c.id}  # a no-op update still takes the lock and a new version
        where = [table.c.id == id_]
        if if_match is not None:
            where.append(sa.literal_column("xmin::text::bigint") == if_match)
        statement = sa.update(table).where(*self._scoped(table, where)).values(changes).returning(*columns(table))
        row = self.execute(statement).mappings().one_or_none()
        if row is not None:
            return dict(row)
        if self.get(table, id_) is None:
            raise NotFound(f"no {what} with id {id_}")
        raise PreconditionFailed(f"the {what} changed since version {if_match}; fetch it again")

    def delete_versioned(self, table: sa.Table, id_: UUID, what: str, if_match: int | None) -> Row:
        where = [table.c.id == id_]
        if if_match is not None:
            where.append(sa.literal_column("xmin::text::bigint") == if_match)
        statement = sa.delete(table).where(*self._scoped(table, where)).returning(*columns(table))
        row = self.execute(statement).mappings().one_or_none()
        if row is not None:
            return dict(row)
        if self.get(table, id_) is None:
            raise NotFound(f"no {what} with id {id_}")
        raise PreconditionFailed(f"the {what} changed since version {if_match}; fetch it again")
