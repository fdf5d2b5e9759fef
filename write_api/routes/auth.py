"""Auth routes: log in, refresh, log out, who am I, users, roles, API keys."""

# No `from __future__ import annotations`: FastAPI must see the permission dependencies as objects.

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from write_api.adapters.auth_repo import find_tenant_id
from write_api.adapters.tokens import token_hash
from write_api.errors import Unauthenticated
from write_api.routes.deps import IfMatch, RequestId, ServicesDep, authorize, path_id, respond, show
from write_api.schemas import auth as s
from write_api.schemas.common import Page
from write_api.service import auth
from write_api.service.common import found, page, parse_cursor
from write_api.service.principal import Principal

router = APIRouter(prefix="/v1", tags=["auth"])
Limit = Annotated[int, Query(ge=1, le=200)]


def can(permission: str | None) -> type[Principal]:
    return Annotated[Principal, Depends(authorize(permission))]  # type: ignore[return-value]


@router.post("/auth/login", response_model=s.TokensOut)
def login(body: s.LoginIn, services: ServicesDep, rid: RequestId) -> s.TokensOut:
    with services.engine.connect() as conn:
        tenant_id = find_tenant_id(conn, body.tenant)
    if tenant_id is None:
        services.passwords.verify(None, body.password.get_secret_value())  # same time as a wrong password
        raise Unauthenticated("wrong tenant, email or password")
    written = auth.log_in(auth.LogIn(body.email, body.password.get_secret_value()), services.uow(tenant_id, rid),
                          services.passwords, services.codec, token_hash)
    return s.TokensOut.model_validate({**written.body, "consistency_token": written.consistency_token})


@router.post("/auth/refresh", response_model=s.TokensOut)
def refresh(body: s.RefreshIn, services: ServicesDep, rid: RequestId) -> s.TokensOut:
    claims = services.codec.decode(body.refresh_token, "refresh")
    cmd = auth.Refresh(claims.user_id, claims.session_id, token_hash(body.refresh_token))
    written = auth.refresh(cmd, services.uow(claims.tenant_id, rid), services.codec, token_hash)
    return s.TokensOut.model_validate({**written.body, "consistency_token": written.consistency_token})


@router.post("/auth/logout", status_code=204)
def logout(body: s.RefreshIn, services: ServicesDep, rid: RequestId) -> Response:
    claims = services.codec.decode(body.refresh_token, "refresh")
    written = auth.log_out(auth.LogOut(claims.session_id), services.uow(claims.tenant_id, rid))
    return Response(status_code=204, headers={"X-Consistency-Token": written.consistency_token})


@router.get("/auth/me", response_model=s.MeOut)
def me(p: can(None)) -> s.MeOut:  # type: ignore[valid-type]
    return s.MeOut(tenant_id=p.tenant_id, user_id=p.user_id, api_key_id=p.api_key_id, permissions=sorted(p.permissions),
                   modules=sorted(p.modules), locales=sorted(p.locales), default_locale=p.default_locale)


@router.post("/users", status_code=201, response_model=s.UserOut)
def create_user(body: s.UserIn, p: can("auth.user.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                response: Response) -> s.UserOut:
    written = auth.create_user(auth.CreateUser(p, body), services.uow(p.tenant_id, rid), services.passwords)
    return respond(response, written, s.UserOut)


@router.get("/users", response_model=Page[s.UserOut])
def list_users(p: can("auth.user.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               cursor: str | None = None, limit: Limit = 100) -> Page[s.UserOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.auth.users(None, parse_cursor(cursor), limit), limit)
    return Page[s.UserOut](items=[s.UserOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.get("/users/{user_id}", response_model=s.UserOut)
def get_user(user_id: str, p: can("auth.user.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
             response: Response) -> s.UserOut:
    uid = path_id(user_id, "user")
    with services.uow(p.tenant_id, rid) as uow:
        users = uow.auth.users([uid], None, 1)
    return show(response, found(users[0] if users else None, "user", uid), s.UserOut)


@router.patch("/users/{user_id}", response_model=s.UserOut)
def update_user(user_id: str, body: s.UserPatch, p: can("auth.user.update"), services: ServicesDep,  # type: ignore[valid-type]
                rid: RequestId, if_match: IfMatch, response: Response) -> s.UserOut:
    cmd = auth.UpdateUser(p, path_id(user_id, "user"), body, if_match)
    return respond(response, auth.update_user(cmd, services.uow(p.tenant_id, rid)), s.UserOut)


@router.get("/roles", response_model=list[s.RoleOut])
def list_roles(p: can("auth.role.read"), services: ServicesDep, rid: RequestId) -> list[s.RoleOut]:  # type: ignore[valid-type]
    with services.uow(p.tenant_id, rid) as uow:
        return [s.RoleOut.model_validate(r) for r in uow.auth.roles()]


@router.post("/api-keys", status_code=201, response_model=s.ApiKeyOut)
def issue_key(body: s.ApiKeyIn, p: can("auth.api_key.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              response: Response) -> s.ApiKeyOut:
    cmd = auth.IssueApiKey(body.name, body.kind, body.role, body.expires_at)
    return respond(response, auth.issue_key(cmd, services.uow(p.tenant_id, rid)), s.ApiKeyOut)


@router.get("/api-keys", response_model=Page[s.ApiKeyOut])
def list_keys(p: can("auth.api_key.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              cursor: str | None = None, limit: Limit = 100) -> Page[s.ApiKeyOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.auth.keys(parse_cursor(cursor), limit), limit)
    return Page[s.ApiKeyOut](items=[s.ApiKeyOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.delete("/api-keys/{key_id}", response_model=s.ApiKeyOut)
def revoke_key(key_id: str, p: can("auth.api_key.revoke"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               if_match: IfMatch, response: Response) -> s.ApiKeyOut:
    cmd = auth.RevokeApiKey(path_id(key_id, "API key"), if_match)
    return respond(response, auth.revoke_key(cmd, services.uow(p.tenant_id, rid)), s.ApiKeyOut)
