"""What a suite is: the rows it validates and its expectations, plus the scope it runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import importlib
from typing import Any

from great_expectations.expectations.expectation import Expectation as Expectation

from contracts.errors import ContractError
from contracts.ids import InvalidId, parse_id


# The package exports its expectation classes lazily, which mypy cannot see through.
gxe: Any = importlib.import_module("great_expectations.expectations")


class ExpectationsError(ContractError):
    """Root of the data-contract suite errors."""


class InvalidScope(ExpectationsError, ValueError):
    """A tenant id or freshness bound that cannot be used in a suite."""


@dataclass(frozen=True)
class Scope:
    """Where the read-model suites look.

    Parameters:
        tenant_id: one tenant, or None for all of them.
        freshness: the longest a change may take from its source commit to the read model;
            entities changed more recently than this are not yet held to the read model.
    """

    tenant_id: UUID | None = None
    freshness: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.tenant_id is not None:
            try:
                # Parsed again so the SQL text built from it can only ever hold a UUID.
                object.__setattr__(self, "tenant_id", parse_id(str(self.tenant_id)))
            except InvalidId as exc:
                raise InvalidScope(f"tenant id {self.tenant_id!r} is not a UUID or ULID") from exc
        if self.freshness <= timedelta(0):
            raise InvalidScope(f"the freshness bound must be positive, got {self.freshness}")

    def tenant_filter(self, column: str) -> str:
        """An SQL condition keeping ``column`` to the scope's tenant (TRUE for all tenants)."""
        return "TRUE" if self.tenant_id is None else f"{column} = '{self.tenant_id}'::uuid"

    @property
    def interval(self) -> str:
        """The freshness bound as an SQL interval literal."""
        return f"interval '{self.freshness.total_seconds():.3f} seconds'"


@dataclass(frozen=True)
class SqlSuite:
    """A suite over the rows ``query`` returns from the deployment's database.

    UnexpectedRows expectations refer to those rows as ``{batch}``.
    """

    name: str
    query: str
    expectations: tuple[Expectation, ...]


@dataclass(frozen=True)
class FrameSuite:
    """A suite over a dataframe built from ``records`` (one dict per row)."""

    name: str
    expectations: tuple[Expectation, ...]
    columns: tuple[str, ...] = field(default_factory=tuple)


def live_version(doc_type: str) -> str:
    """SQL for the live index version of a document type."""
    return f"(SELECT live_version FROM read_model_aliases WHERE doc_type = '{doc_type}')"
