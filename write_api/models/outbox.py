"""The transactional outbox, in the shape Debezium's Outbox Event Router expects."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from contracts.ids import new_id
from write_api.models.base import Base


class OutboxEvent(Base):
    """One domain event (``ProductPublished``...), written in the same transaction as
    the change it describes. Routed to ``<prefix>.events.<aggregatetype>``.

    No foreign key to tenants: an event about a tenant's deletion must still be
    written in the transaction that deletes it.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_created_at", "created_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[UUID]
    aggregatetype: Mapped[str] = mapped_column(sa.String(64))
    aggregateid: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[str] = mapped_column(sa.String(128))
    payload: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))
