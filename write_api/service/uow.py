"""The unit of work port: one transaction, one tenant.

``with uow:`` opens the transaction; leaving the block without ``commit()`` rolls
everything back, so an error anywhere leaves nothing partly written. ``commit()``
returns the consistency token (the WAL position after the commit).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self
from uuid import UUID

if TYPE_CHECKING:
    from write_api.adapters.auth_repo import AuthRepository
    from write_api.adapters.commerce_repo import CatalogRepository, OrderRepository, ProductRepository
    from write_api.adapters.content_repo import NodeRepository
    from write_api.adapters.flex_repo import FlexRepository
    from write_api.adapters.outbox import OutboxWriter


class UnitOfWork(Protocol):
    tenant_id: UUID
    products: ProductRepository
    catalog: CatalogRepository
    orders: OrderRepository
    nodes: NodeRepository
    flex: FlexRepository
    auth: AuthRepository
    outbox: OutboxWriter
    written_version: int | None
    """After ``commit()``: the version (xmin) of every row the transaction wrote."""

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None: ...

    def commit(self) -> str: ...
