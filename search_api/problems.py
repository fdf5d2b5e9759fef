"""Every error as ``application/problem+json`` (RFC 9457), mapped in this one place.

Body: ``type``, ``title``, ``status``, ``code`` (stable, for programs), ``detail`` and
``errors`` (``path`` + ``message`` per bad parameter). Anything unexpected is logged
and answered 500 without internals; client input never gets there.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from search_api.errors import FieldError, RateLimited, SearchApiError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, detail: str, errors: tuple[FieldError, ...] = (),
            headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": f"https://rustok.dev/problems/{code}", "title": HTTPStatus(status).phrase,
                            "status": status, "code": code, "detail": detail,
                            "errors": [{"path": e.path, "message": e.message} for e in errors]}
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(SearchApiError)
    async def _domain(request: Request, error: SearchApiError) -> Response:
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))} if isinstance(error, RateLimited) else None
        return problem(error.status, error.code, error.detail, error.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        errors = tuple(FieldError(".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
                                  str(e.get("msg", "invalid"))) for e in error.errors())
        return problem(422, "invalid_request", "the request does not have the expected shape", errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return problem(error.status_code, code, str(error.detail), headers=dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "internal", "the server failed; this is a bug, not your request")
