"""What every handler shares: the result of a write, locale checks, list cursors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.ids import InvalidId, parse_id
from write_api.domain.rules import duplicates
from write_api.errors import Conflict, FieldError, InvalidInput, NotFound, PathPart
from write_api.service.principal import Principal


@dataclass(frozen=True, slots=True)
class Written:
    """A committed write: the public body, the new version (ETag) and the consistency token."""

    body: dict[str, Any]
    version: int | None
    consistency_token: str


@dataclass(frozen=True, slots=True)
class Listed:
    items: list[dict[str, Any]]
    next_cursor: str | None


def check_locales(principal: Principal, located: Iterable[tuple[tuple[PathPart, ...], str]]) -> None:
    """Each locale must be enabled for the tenant and appear once per list."""
    errors: list[FieldError] = []
    seen: dict[tuple[PathPart, ...], set[str]] = {}
    for path, locale in located:
        bucket = seen.setdefault(path[:-2], set())
        if locale not in principal.locales:
            enabled = ", ".join(sorted(principal.locales))
            errors.append(FieldError(path, f"{locale} is not enabled for this tenant (enabled: {enabled})"))
        elif locale in bucket:
            errors.append(FieldError(path, f"{locale} appears twice"))
        bucket.add(locale)
    if errors:
        raise InvalidInput("translations use locales this tenant cannot publish in", tuple(errors))


def check_unique(values: list[str | None], path_of: Any, what: str) -> None:
    repeated = duplicates(values)
    if repeated:
        raise InvalidInput(f"duplicate {what} in the request",
                           tuple(FieldError(path_of(i), f"{what} {v!r} appears earlier in the request") for i, v in repeated.items()))


def conflict_at(paths: Sequence[tuple[tuple[PathPart, ...], str]], message: str) -> Conflict:
    return Conflict(message, tuple(FieldError(path, f"{value!r}: {message}") for path, value in paths))


def missing_refs(wanted: Sequence[UUID], found: set[UUID], path_of: Any, what: str) -> None:
    errors = tuple(FieldError(path_of(i), f"no {what} with id {v}") for i, v in enumerate(wanted) if v not in found)
    if errors:
        raise InvalidInput(f"unknown {what}", errors)


def parse_cursor(cursor: str | None) -> UUID | None:
    if cursor is None:
        return None
    try:
        return parse_id(cursor)
    except InvalidId:
        raise InvalidInput("cursor is not valid", (FieldError(("query", "cursor"), "not a cursor from a previous page"),)) from None


def page(items: list[dict[str, Any]], limit: int) -> Listed:
    return Listed(items, str(items[-1]["id"]) if len(items) == limit else None)


def found(row: dict[str, Any] | None, what: str, id_: UUID) -> dict[str, Any]:
    if row is None:
        raise NotFound(f"no {what} with id {id_}")
    return row
