"""The outbox writer: one row per write, inside the writing transaction.

Rows are buffered by ``append`` and written by the unit of work's commit in the same
round trip as the COMMIT itself (see ``SqlUnitOfWork.commit``): still the same
transaction, one network wait fewer per write.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from contracts.ids import new_id
from write_api.adapters.bulk import send_inserts
from write_api.adapters.tables import driver_connection, table_of
from write_api.models.outbox import OutboxEvent

log = logging.getLogger(__name__)
_TABLE = table_of(OutboxEvent)


class OutboxWriter:
    def __init__(self, conn: sa.Connection, tenant_id: UUID, request_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id
        self._request_id = request_id
        self.written = 0
        self._pending: list[dict[str, Any]] = []

    def append(self, aggregatetype: str, aggregateid: UUID, type_: str, payload: dict[str, Any]) -> None:
        """Record ``type_`` (a past-tense event name such as ``ProductPublished``)."""
        self._pending.append({
            "id": new_id(), "tenant_id": self._tenant_id, "aggregatetype": aggregatetype,
            "aggregateid": str(aggregateid), "type": type_, "payload": payload, "request_id": self._request_id,
        })
        self.written += 1
        log.debug("outbox event", extra={"tenant": str(self._tenant_id), "event": type_, "aggregate": str(aggregateid)})

    def flush(self) -> None:
        """Insert the buffered rows (the unit of work calls this just before COMMIT)."""
        if self._pending:
            rows, self._pending = self._pending, []
            send_inserts(driver_connection(self._conn), _TABLE, rows)
