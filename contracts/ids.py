"""Identifiers: UUIDs generated from ULIDs, so they sort by creation time.

APIs accept either spelling (26-character Crockford ULID or canonical UUID); storage
and change events always use the UUID form.
"""

from __future__ import annotations

from typing import Annotated, NewType
from uuid import UUID

from pydantic import BeforeValidator
from ulid import ULID

from contracts.errors import ContractError

TenantId = NewType("TenantId", UUID)


class InvalidId(ContractError, ValueError):
    """A string that is neither a ULID nor a UUID."""


def new_id() -> UUID:
    """A new time-ordered id (a ULID in UUID form)."""
    return ULID().to_uuid()


def parse_id(value: str | UUID) -> UUID:
    """Parse a ULID or UUID string; raise InvalidId otherwise."""
    if isinstance(value, UUID):
        return value
    text = value.strip()
    if len(text) == 26:
        try:
            return ULID.from_str(text).to_uuid()
        except ValueError:
            pass
    try:
        return UUID(text)
    except ValueError:
        raise InvalidId(f"{value!r} is not a ULID or UUID") from None


def to_ulid(value: UUID) -> str:
    """The ULID spelling of an id."""
    return str(ULID.from_uuid(value))


def _coerce_id(value: object) -> object:
    return parse_id(value) if isinstance(value, str) else value


Id = Annotated[UUID, BeforeValidator(_coerce_id)]
"""A pydantic field type that accepts a ULID or UUID and holds a UUID."""
