"""Flex routes: schemas and the entries validated against them."""

# No `from __future__ import annotations`: FastAPI must see the permission dependencies as objects.

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from write_api.routes.deps import IfMatch, RequestId, ServicesDep, authorize, path_id, respond, show
from write_api.schemas import flex as s
from write_api.schemas.common import Deleted, Page
from write_api.service import flex
from write_api.service.common import found, page, parse_cursor
from write_api.service.principal import Principal

router = APIRouter(prefix="/v1/flex", tags=["flex"])
Limit = Annotated[int, Query(ge=1, le=200)]


def can(permission: str) -> type[Principal]:
    return Annotated[Principal, Depends(authorize(permission, "flex"))]  # type: ignore[return-value]


@router.post("/schemas", status_code=201, response_model=s.FlexSchemaOut)
def define_schema(body: s.FlexSchemaIn, p: can("flex.schema.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                  response: Response) -> s.FlexSchemaOut:
    return respond(response, flex.define_schema(flex.DefineSchema(p, body), services.uow(p.tenant_id, rid)), s.FlexSchemaOut)


@router.get("/schemas", response_model=Page[s.FlexSchemaOut])
def list_schemas(p: can("flex.schema.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                 cursor: str | None = None, limit: Limit = 100) -> Page[s.FlexSchemaOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page([flex.schema_view(r) for r in uow.flex.list_schemas(parse_cursor(cursor), limit)], limit)
    return Page[s.FlexSchemaOut](items=[s.FlexSchemaOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.get("/schemas/{schema_id}", response_model=s.FlexSchemaOut)
def get_schema(schema_id: str, p: can("flex.schema.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               response: Response) -> s.FlexSchemaOut:
    sid = path_id(schema_id, "schema")
    with services.uow(p.tenant_id, rid) as uow:
        row = found(uow.flex.get_schema(sid), "schema", sid)
    return show(response, flex.schema_view(row), s.FlexSchemaOut)


@router.put("/schemas/{schema_id}", response_model=s.FlexSchemaOut)
def change_schema(schema_id: str, body: s.FlexSchemaUpdate, p: can("flex.schema.update"), services: ServicesDep,  # type: ignore[valid-type]
                  rid: RequestId, if_match: IfMatch, response: Response) -> s.FlexSchemaOut:
    cmd = flex.ChangeSchema(p, path_id(schema_id, "schema"), body, if_match)
    return respond(response, flex.change_schema(cmd, services.uow(p.tenant_id, rid)), s.FlexSchemaOut)


@router.delete("/schemas/{schema_id}", response_model=Deleted)
def delete_schema(schema_id: str, p: can("flex.schema.delete"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                  if_match: IfMatch, response: Response) -> Deleted:
    cmd = flex.DeleteSchema(p, path_id(schema_id, "schema"), if_match)
    return respond(response, flex.delete_schema(cmd, services.uow(p.tenant_id, rid)), Deleted)


@router.post("/entries", status_code=201, response_model=s.FlexEntryOut)
def create_entry(body: s.FlexEntryIn, p: can("flex.entry.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                 response: Response) -> s.FlexEntryOut:
    return respond(response, flex.create_entry(flex.CreateEntry(p, body), services.uow(p.tenant_id, rid)), s.FlexEntryOut)


@router.get("/entries", response_model=Page[s.FlexEntryOut])
def list_entries(p: can("flex.entry.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                 schema_id: str | None = None, entity_id: str | None = None,
                 cursor: str | None = None, limit: Limit = 100) -> Page[s.FlexEntryOut]:
    sid = path_id(schema_id, "schema") if schema_id else None
    eid = path_id(entity_id, "entity") if entity_id else None
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.flex.list_entries(sid, eid, parse_cursor(cursor), limit), limit)
    return Page[s.FlexEntryOut](items=[s.FlexEntryOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.get("/entries/{entry_id}", response_model=s.FlexEntryOut)
def get_entry(entry_id: str, p: can("flex.entry.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              response: Response) -> s.FlexEntryOut:
    eid = path_id(entry_id, "entry")
    with services.uow(p.tenant_id, rid) as uow:
        row = found(uow.flex.get_entry(eid), "entry", eid)
    return show(response, row, s.FlexEntryOut)


@router.put("/entries/{entry_id}", response_model=s.FlexEntryOut)
def update_entry(entry_id: str, body: s.FlexEntryUpdate, p: can("flex.entry.update"), services: ServicesDep,  # type: ignore[valid-type]
                 rid: RequestId, if_match: IfMatch, response: Response) -> s.FlexEntryOut:
    cmd = flex.UpdateEntry(p, path_id(entry_id, "entry"), body, if_match)
    return respond(response, flex.update_entry(cmd, services.uow(p.tenant_id, rid)), s.FlexEntryOut)


@router.delete("/entries/{entry_id}", response_model=Deleted)
def delete_entry(entry_id: str, p: can("flex.entry.delete"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                 if_match: IfMatch, response: Response) -> Deleted:
    cmd = flex.DeleteEntry(p, path_id(entry_id, "entry"), if_match)
    return respond(response, flex.delete_entry(cmd, services.uow(p.tenant_id, rid)), Deleted)
