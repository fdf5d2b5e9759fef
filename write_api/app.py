"""The write API application: ``create_app(settings)``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.serving import tune_gc_for_serving
from write_api.adapters.db import create_engine
from write_api.adapters.passwords import Passwords
from write_api.adapters.tokens import TokenCodec
from write_api.errors import InvalidInput, NotFound, PayloadTooLarge, WriteApiError
from write_api.problems import field_errors, problem_response
from write_api.routes import auth, commerce, content, flex, imports, tenants
from write_api.routes.deps import Services
from write_api.settings import WriteApiSettings
from write_api.workers import WorkerThreads

log = logging.getLogger(__name__)


class BodyLimit:
    """Refuse bodies over the limit with 413, from Content-Length or while streaming,
    without ever holding more than the limit in memory."""

    def __init__(self, app: ASGIApp, default_limit: int, import_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit
        self.import_limit = import_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.import_limit if scope["path"].startswith("/v1/import/") else self.default_limit
        too_large = PayloadTooLarge(f"the body is larger than {limit} bytes")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await problem_response(too_large)(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
            return message

        await self.app(scope, bounded, send)


def create_app(settings: WriteApiSettings) -> FastAPI:
    engine = create_engine(settings)
    workers = WorkerThreads(settings.pool_size)  # one per pooled connection

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers.start()
        yield
        workers.stop()
        engine.dispose()

    app = FastAPI(title="RusToK write API", version="1.0.0", lifespan=lifespan,
                  description="Content teams' API: tenants, auth, content, commerce, Flex, bulk import.")
    app.state.services = Services(
        settings=settings,
        engine=engine,
        codec=TokenCodec(settings.jwt_secret.get_secret_value(), settings.access_token_seconds, settings.refresh_token_seconds),
        passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
        workers=workers,
    )
    # Commerce first: a request is matched against the routes in order, and product
    # creation is the hottest route (43 regex matches before it otherwise). The routers'
    # paths are disjoint, so the order changes nothing else.
    for module in (commerce, tenants, auth, content, flex, imports):
        app.include_router(module.router)
    _install_problem_handlers(app)
    app.add_middleware(BodyLimit, default_limit=settings.max_body_bytes, import_limit=settings.max_import_bytes)
    return app


def _install_problem_handlers(app: FastAPI) -> None:
    async def on_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, WriteApiError)
        if error.status >= 500:
            log.error("write API error", exc_info=error)
        return problem_response(error)

    async def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return problem_response(InvalidInput("the request is not valid", field_errors(error.errors())))

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return problem_response(NotFound("no such route"))
        problem = WriteApiError(str(error.detail))
        problem.status, problem.code, problem.title = error.status_code, "http_error", str(error.detail)
        return problem_response(problem, headers=dict(error.headers or {}))

    async def on_unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error", extra={"path": request.url.path})
        return problem_response(WriteApiError("an unexpected error; it has been logged"))

    app.add_exception_handler(WriteApiError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory write_api.app:app_from_env``: settings from ``RUSTOK_WRITE_*``."""
    app = create_app(WriteApiSettings())  # database_url comes from the environment
    tune_gc_for_serving()  # the server's process only: tests and tools that build the app keep Python's defaults
    return app
