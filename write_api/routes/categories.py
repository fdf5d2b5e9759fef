"""Category tree routes, mounted twice: commerce categories under /v1/categories and
content categories under /v1/content/categories (list, get, create, update, delete)."""

# No `from __future__ import annotations` here: FastAPI must see the dependencies and
# the body models (passed in per tree) as objects, not strings.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from write_api.routes.deps import IfMatch, RequestId, ServicesDep, authorize, path_id, respond, show
from write_api.schemas.common import Deleted, Page
from write_api.service import categories
from write_api.service.common import found, page, parse_cursor
from write_api.service.principal import Principal

Limit = Annotated[int, Query(ge=1, le=200)]


def add_category_routes(router: APIRouter, path: str, entity: str, module: str, tree: categories.Tree,
                        create_model: Any, patch_model: Any, out_model: Any) -> None:
    """``entity`` names the permissions (``<entity>.create`` ...); ``module`` gates the routes."""

    def can(action: str) -> Any:
        return Annotated[Principal, Depends(authorize(f"{entity}.{action}", module))]

    tag = path.strip("/").replace("/", "_")

    @router.post(path, status_code=201, response_model=out_model, name=f"create_{tag}")
    def create(body: create_model, p: can("create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               response: Response) -> Any:
        cmd = categories.CreateCategory(p, tree, body)
        return respond(response, categories.create_category(cmd, services.uow(p.tenant_id, rid)), out_model)

    @router.get(path, response_model=Page[out_model], name=f"list_{tag}")
    def list_(p: can("read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              cursor: str | None = None, limit: Limit = 100) -> Any:
        with services.uow(p.tenant_id, rid) as uow:
            listed = page(tree.of(uow).list(parse_cursor(cursor), limit), limit)
        return Page[out_model](items=[out_model.model_validate(i) for i in listed.items],
                               next_cursor=listed.next_cursor)

    @router.get(f"{path}/{{category_id}}", response_model=out_model, name=f"get_{tag}")
    def get(category_id: str, p: can("read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
            response: Response) -> Any:
        cid = path_id(category_id, "category")
        with services.uow(p.tenant_id, rid) as uow:
            body = found(tree.of(uow).get(cid), "category", cid)
        return show(response, body, out_model)

    @router.patch(f"{path}/{{category_id}}", response_model=out_model, name=f"update_{tag}")
    def update(category_id: str, body: patch_model, p: can("update"), services: ServicesDep,  # type: ignore[valid-type]
               rid: RequestId, if_match: IfMatch, response: Response) -> Any:
        cmd = categories.UpdateCategory(p, tree, path_id(category_id, "category"), body, if_match)
        return respond(response, categories.update_category(cmd, services.uow(p.tenant_id, rid)), out_model)

    @router.delete(f"{path}/{{category_id}}", response_model=Deleted, name=f"delete_{tag}")
    def delete(category_id: str, p: can("delete"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               if_match: IfMatch, response: Response) -> Deleted:
        cmd = categories.DeleteCategory(p, tree, path_id(category_id, "category"), if_match)
        return respond(response, categories.delete_category(cmd, services.uow(p.tenant_id, rid)), Deleted)
