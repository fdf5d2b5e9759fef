"""Bulk import: NDJSON in, one result per line out."""

# No `from __future__ import annotations`: FastAPI must see the permission dependencies as objects.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from write_api.errors import UnsupportedMediaType
from write_api.problems import problem_body
from write_api.routes.deps import RequestId, ServicesDep, authorize
from write_api.schemas.commerce import ProductIn
from write_api.schemas.content import NodeIn
from write_api.service import commerce, content
from write_api.service.imports import import_lines
from write_api.service.principal import Principal

router = APIRouter(prefix="/v1/import", tags=["import"])
NDJSON = "application/x-ndjson"
CanImportProducts = Annotated[Principal, Depends(authorize("commerce.product.import", "commerce"))]
CanImportContent = Annotated[Principal, Depends(authorize("content.node.import", "content"))]

_DOC = {"requestBody": {"content": {NDJSON: {"schema": {"type": "string", "description": "one JSON object per line"}}}}}


async def _lines(request: Request) -> list[bytes]:
    if request.headers.get("content-type", "").split(";")[0].strip() != NDJSON:
        raise UnsupportedMediaType(f"send the lines as {NDJSON}")
    return (await request.body()).splitlines()


@router.post("/products", openapi_extra=_DOC)
async def import_products(request: Request, p: CanImportProducts, services: ServicesDep, rid: RequestId) -> dict[str, Any]:
    lines = await _lines(request)
    results = await run_in_threadpool(
        import_lines, lines, ProductIn, commerce.create_product, lambda data: commerce.CreateProduct(p, data),
        lambda: services.uow(p.tenant_id, rid), problem_body)
    return {"results": results, "created": sum(r["status"] == 201 for r in results),
            "failed": sum(r["status"] != 201 for r in results)}


@router.post("/content", openapi_extra=_DOC)
async def import_content(request: Request, p: CanImportContent, services: ServicesDep, rid: RequestId) -> dict[str, Any]:
    lines = await _lines(request)
    results = await run_in_threadpool(
        import_lines, lines, NodeIn, content.create_node, lambda data: content.CreateNode(p, data),
        lambda: services.uow(p.tenant_id, rid), problem_body)
    return {"results": results, "created": sum(r["status"] == 201 for r in results),
            "failed": sum(r["status"] != 201 for r in results)}
