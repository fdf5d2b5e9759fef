"""Dependencies shared by every router, declared once as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from contracts.ids import InvalidId, parse_id
from contracts.request_context import accept_request_id, current_request_id
from write_api.adapters import identity
from write_api.adapters.passwords import Passwords
from write_api.adapters.tokens import TokenCodec
from write_api.adapters.uow import SqlUnitOfWork
from write_api.errors import NotFound, PreconditionFailed, Unauthenticated
from write_api.service.common import Written
from write_api.service.principal import Principal
from write_api.settings import WriteApiSettings
from write_api.workers import WorkerThreads


@dataclass(frozen=True)
class Services:
    """Everything the routes need, built once by ``create_app``."""

    settings: WriteApiSettings
    engine: sa.Engine
    codec: TokenCodec
    passwords: Passwords
    workers: WorkerThreads

    def uow(self, tenant_id: UUID, request_id: str) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, tenant_id, request_id)

    async def in_worker(self, work: Callable[[], R]) -> R:
        """Run ``work`` (blocking I/O) in a worker thread: hot async routes' one hop."""
        return await self.workers.run(work)


# The two dependencies below do no I/O, so they are ``async``: FastAPI would run a sync
# dependency in the thread pool, a thread hop per dependency per request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_request_id(x_request_id: Annotated[str | None, Header()] = None) -> str:
    """The id the HTTP edge gave this request (it also goes to the logs), else the header's or a new one."""
    return current_request_id() or accept_request_id(x_request_id)


RequestId = Annotated[str, Depends(get_request_id)]


def get_if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,12})"?\s*', if_match)
    if match is None:
        raise PreconditionFailed("If-Match must be an ETag from a previous response, e.g. W/\"1234\"")
    return int(match.group(1))


IfMatch = Annotated[int | None, Depends(get_if_match)]


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("send Authorization: Bearer <access token or API key>")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("send Authorization: Bearer <access token or API key>")
    return credential.strip()


def _principal(services: Services, credential: str) -> Principal:
    # Autocommit: the lookup is one statement, so no BEGIN/ROLLBACK round trips around it.
    with services.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return identity.resolve(conn, services.codec, credential)


def authorize(permission: str | None, module: str | None = None) -> Callable[..., Principal]:
    """A dependency that authenticates, checks the module is enabled and the permission held.

    ``permission=None`` only authenticates (for routes about the caller itself).
    """

    def dependency(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> Principal:
        principal = _principal(services, _bearer(authorization))
        if permission is not None:
            principal.require(permission, module)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.module = module  # type: ignore[attr-defined]
    return dependency


@dataclass(frozen=True, slots=True)
class Caller:
    """A bearer credential already checked for form, signature and expiry (on the event
    loop: CPU only, the verified token is cached), whose Principal is looked up by
    ``principal()`` in the endpoint's own worker thread. A hot route then pays one thread
    hop per request instead of two (one for a sync dependency, one for the endpoint).
    The lookup and the permission check still come before any write."""

    services: Services
    credential: str
    permission: str
    module: str | None

    def principal(self) -> Principal:
        principal = _principal(self.services, self.credential)
        principal.require(self.permission, self.module)
        return principal


def authorize_in_endpoint(permission: str, module: str | None = None) -> Callable[..., Awaitable[Caller]]:
    """Like ``authorize``, for endpoints that call ``Caller.principal()`` in their worker
    thread before anything else."""

    async def dependency(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> Caller:
        credential = _bearer(authorization)
        if not credential.startswith("rtk_"):
            services.codec.decode(credential, "access")  # an invalid or expired token is 401 before the body is read
        return Caller(services, credential, permission, module)

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.module = module  # type: ignore[attr-defined]
    return dependency


def require_platform(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """Platform administration: the bootstrap token ``RUSTOK_WRITE_PLATFORM_TOKEN``."""
    expected = services.settings.platform_token
    credential = _bearer(authorization)
    if expected is None or not hmac.compare_digest(credential.encode(), expected.get_secret_value().encode()):
        raise Unauthenticated("platform administration needs the platform token")


require_platform.permission = "platform.tenant.manage"  # type: ignore[attr-defined]
require_platform.module = None  # type: ignore[attr-defined]
Platform = Annotated[None, Depends(require_platform)]


def path_id(value: str, what: str) -> UUID:
    """An id from the path; a malformed one is as absent as another tenant's."""
    try:
        return parse_id(value)
    except InvalidId:
        raise NotFound(f"no {what} with id {value}") from None


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def respond(response: Response, written: Written, model: type[M]) -> M:
    """The public model of a write, with its ETag and consistency token headers."""
    response.headers["X-Consistency-Token"] = written.consistency_token
    if written.version is not None:
        response.headers["ETag"] = etag(written.version)
    return model.model_validate({**written.body, "consistency_token": written.consistency_token})


def written_json(written: Written, model: type[BaseModel], status_code: int = 200) -> Response:
    """``respond`` as a finished response: the body serialized once by the model's own
    serializer, skipping FastAPI's re-validation and encoding of a returned model (the same
    JSON). For hot routes; the route keeps ``response_model`` for its documentation."""
    out = model.model_validate({**written.body, "consistency_token": written.consistency_token})
    headers = {"X-Consistency-Token": written.consistency_token}
    if written.version is not None:
        headers["ETag"] = etag(written.version)
    return Response(out.model_dump_json().encode(), status_code, headers, media_type="application/json")


def show(response: Response, body: dict[str, Any], model: type[M]) -> M:
    if body.get("version") is not None:
        response.headers["ETag"] = etag(int(body["version"]))
    return model.model_validate(body)


def etag(version: int) -> str:
    return f'W/"{version}"'
