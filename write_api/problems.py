"""problem+json (RFC 9457) bodies and responses: the one place errors become HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from write_api.errors import FieldError, WriteApiError

PROBLEM_JSON = "application/problem+json"


def problem_body(error: WriteApiError) -> dict[str, Any]:
    return {
        "type": f"https://rustok.dev/problems/{error.code.replace('_', '-')}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "errors": [{"path": list(e.path), "message": e.message} for e in error.errors],
    }


def problem_response(error: WriteApiError, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(problem_body(error)), status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(pydantic_errors: Sequence[Any]) -> tuple[FieldError, ...]:
    """FastAPI's validation errors as field paths: ("body", "variants", 0, "sku")."""
    return tuple(FieldError(tuple(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in pydantic_errors)
