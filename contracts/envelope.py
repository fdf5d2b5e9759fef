"""The Debezium change-event envelope, as JSON with schemas disabled.

The key of a change event is the table's primary key as a JSON object; its value is
:class:`ChangeEvent`. A delete is followed by a tombstone (same key, null value).
Both connectors (Debezium and the embedded one) produce exactly this shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.errors import ContractError

Op = Literal["c", "u", "d", "r", "t", "m"]


class InvalidChangeEvent(ContractError, ValueError):
    """A message that is not a Debezium change event of the expected shape."""


class SourceInfo(BaseModel):
    """Debezium's ``source`` block for the PostgreSQL connector."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="allow")

    version: str
    connector: str
    name: str
    ts_ms: int
    snapshot: str | None = None
    db: str
    sequence: str | None = None
    ts_us: int | None = None
    ts_ns: int | None = None
    schema_name: str = Field(alias="schema")
    table: str
    txId: int | None = None
    lsn: int | None = None
    xmin: int | None = None

    @property
    def is_snapshot(self) -> bool:
        return self.snapshot not in (None, "false")


class TransactionBlock(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    total_order: int
    data_collection_order: int


class ChangeEvent(BaseModel):
    """One row change: ``before`` and ``after`` hold column values in Debezium's JSON forms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    source: SourceInfo
    transaction: TransactionBlock | None = None
    op: Op
    ts_ms: int | None = None
    ts_us: int | None = None
    ts_ns: int | None = None

    @property
    def table(self) -> str:
        return self.source.table

    @property
    def row(self) -> dict[str, Any]:
        """The row as it is after the change, or as it was before a delete."""
        row = self.after if self.op != "d" else self.before
        return row or {}

    @property
    def position(self) -> tuple[int, int]:
        """Total order of facts: (LSN of the change, order inside its transaction)."""
        order = self.transaction.total_order if self.transaction else 0
        return (self.source.lsn or 0, order)


def parse_change_event(value: bytes | str | dict[str, Any]) -> ChangeEvent:
    """Parse a change-event value; raise InvalidChangeEvent with the reason."""
    try:
        if isinstance(value, dict):
            event = ChangeEvent.model_validate(value)
        else:
            event = ChangeEvent.model_validate_json(value)
    except ValidationError as exc:
        raise InvalidChangeEvent(str(exc)) from exc
    if event.op in ("c", "r", "u") and event.after is None:
        raise InvalidChangeEvent(f"op {event.op!r} without 'after'")
    if event.op == "d" and event.before is None:
        raise InvalidChangeEvent("op 'd' without 'before'")
    return event
