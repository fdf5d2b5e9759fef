"""Bulk import of NDJSON: one line, one transaction, one result.

A bad line never stops the import and never leaves anything of itself behind; the
result for each line says what happened so a team can fix and resend only those lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from write_api.errors import FieldError, InvalidInput, WriteApiError
from write_api.service.common import Written
from write_api.service.uow import UnitOfWork

log = logging.getLogger(__name__)


def import_lines(
    lines: Iterable[bytes],
    model: type[BaseModel],
    handle: Callable[[Any, UnitOfWork], Written],
    make_command: Callable[[Any], Any],
    make_uow: Callable[[], UnitOfWork],
    problem: Callable[[WriteApiError], dict[str, Any]],
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = model.model_validate(orjson.loads(raw))
            written = handle(make_command(data), make_uow())
            results.append({"line": number, "status": 201, "id": str(written.body["id"]),
                             "consistency_token": written.consistency_token})
        except orjson.JSONDecodeError as error:
            results.append({"line": number, **problem(InvalidInput(f"not JSON: {error}", (FieldError(("line",), "not JSON"),)))})
        except ValidationError as error:
            results.append({"line": number, **problem(from_validation(error, ("line",)))})
        except WriteApiError as error:
            results.append({"line": number, **problem(error)})
    log.info("import finished", extra={"lines": len(results), "failed": sum(r["status"] >= 400 for r in results)})
    return results


def from_validation(error: ValidationError, root: tuple[str, ...]) -> InvalidInput:
    errors = tuple(FieldError((*root, *e["loc"]), e["msg"]) for e in error.errors())
    return InvalidInput("the line is not valid", errors)
