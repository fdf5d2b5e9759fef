"""Platform administration: tenants and their modules (bootstrap platform token)."""

# No `from __future__ import annotations`: FastAPI must see the dependencies as objects.

from typing import Literal

from fastapi import APIRouter, Response

from contracts.ids import new_id
from write_api.routes.deps import Platform, RequestId, ServicesDep, path_id, respond
from write_api.schemas import auth as s
from write_api.service import auth
from write_api.service.common import found

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
ModuleName = Literal["content", "blog", "forum", "pages", "commerce", "flex", "index"]


@router.post("", status_code=201, response_model=s.TenantOut)
def create_tenant(body: s.TenantIn, _: Platform, services: ServicesDep, rid: RequestId, response: Response) -> s.TenantOut:
    written = auth.create_tenant(auth.CreateTenant(body), services.uow(new_id(), rid), services.passwords)
    return respond(response, written, s.TenantOut)


@router.get("/{tenant_id}", response_model=s.TenantOut)
def get_tenant(tenant_id: str, _: Platform, services: ServicesDep, rid: RequestId) -> s.TenantOut:
    tid = path_id(tenant_id, "tenant")
    with services.uow(tid, rid) as uow:
        return s.TenantOut.model_validate(found(uow.auth.tenant(), "tenant", tid))


@router.patch("/{tenant_id}", response_model=s.TenantOut)
def update_tenant(tenant_id: str, body: s.TenantPatch, _: Platform, services: ServicesDep, rid: RequestId,
                  response: Response) -> s.TenantOut:
    uow = services.uow(path_id(tenant_id, "tenant"), rid)
    return respond(response, auth.update_tenant(auth.UpdateTenant(body), uow), s.TenantOut)


@router.put("/{tenant_id}/modules/{module}", response_model=s.TenantOut)
def switch_module(tenant_id: str, module: ModuleName, body: s.ModuleSwitch, _: Platform, services: ServicesDep,
                  rid: RequestId, response: Response) -> s.TenantOut:
    uow = services.uow(path_id(tenant_id, "tenant"), rid)
    return respond(response, auth.switch_module(auth.SwitchModule(module, body.enabled), uow), s.TenantOut)
