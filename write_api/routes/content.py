"""Content routes: nodes, and the blog, forum and pages wrappers over them."""

# No `from __future__ import annotations` here: FastAPI must see the permission
# dependencies (built per route, some inside closures) as objects, not strings.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from write_api.domain.lifecycle import Action
from write_api.errors import NotFound
from write_api.routes.categories import add_category_routes
from write_api.routes.deps import IfMatch, RequestId, Services, ServicesDep, authorize, path_id, respond, show
from write_api.schemas import content as s
from write_api.schemas.common import Deleted, Page
from write_api.service import categories, content
from write_api.service.common import found, page, parse_cursor
from write_api.service.principal import Principal

router = APIRouter(prefix="/v1", tags=["content"])
Limit = Annotated[int, Query(ge=1, le=200)]
Kind = Literal["page", "post", "comment", "topic", "reply"]
NodePage = Page[s.NodeOut]


def can(permission: str, module: str = "content") -> type[Principal]:
    return Annotated[Principal, Depends(authorize(permission, module))]  # type: ignore[return-value]


def _list(services: Services, p: Principal, rid: str, kinds: list[str], status: str | None, root_id: str | None,
          cursor: str | None, limit: int) -> NodePage:
    with services.uow(p.tenant_id, rid) as uow:
        root = None
        if root_id is not None:
            root = path_id(root_id, "node")
            parent = uow.nodes.get_root(root)
            if parent is None or parent["kind"] not in ("post", "topic"):
                raise NotFound(f"no thread with id {root_id}")
        items = uow.nodes.load_many(uow.nodes.list_roots(kinds, status, root, parse_cursor(cursor), limit))
    listed = page(items, limit)
    return NodePage(items=[s.NodeOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


def _create(services: Services, p: Principal, rid: str, data: s.NodeIn, response: Response) -> s.NodeOut:
    return respond(response, content.create_node(content.CreateNode(p, data), services.uow(p.tenant_id, rid)), s.NodeOut)


@router.post("/nodes", status_code=201, response_model=s.NodeOut)
def create_node(body: s.NodeIn, p: can("content.node.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                response: Response) -> s.NodeOut:
    return _create(services, p, rid, body, response)


@router.get("/nodes", response_model=NodePage)
def list_nodes(p: can("content.node.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               kind: Kind | None = None, status: Literal["draft", "published", "archived"] | None = None,
               cursor: str | None = None, limit: Limit = 50) -> NodePage:
    kinds: list[str] = [kind] if kind else ["page", "post", "comment", "topic", "reply"]
    return _list(services, p, rid, kinds, status, None, cursor, limit)


@router.get("/nodes/{node_id}", response_model=s.NodeOut)
def get_node(node_id: str, p: can("content.node.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
             response: Response) -> s.NodeOut:
    nid = path_id(node_id, "node")
    with services.uow(p.tenant_id, rid) as uow:
        body = found(uow.nodes.load(nid), "node", nid)
    return show(response, body, s.NodeOut)


@router.patch("/nodes/{node_id}", response_model=s.NodeOut)
def update_node(node_id: str, body: s.NodePatch, p: can("content.node.update"), services: ServicesDep,  # type: ignore[valid-type]
                rid: RequestId, if_match: IfMatch, response: Response) -> s.NodeOut:
    cmd = content.UpdateNode(p, path_id(node_id, "node"), body, if_match)
    return respond(response, content.update_node(cmd, services.uow(p.tenant_id, rid)), s.NodeOut)


@router.delete("/nodes/{node_id}", response_model=Deleted)
def delete_node(node_id: str, p: can("content.node.delete"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                if_match: IfMatch, response: Response) -> Deleted:
    cmd = content.DeleteNode(p, path_id(node_id, "node"), if_match)
    return respond(response, content.delete_node(cmd, services.uow(p.tenant_id, rid)), Deleted)


def _status_route(action: Action) -> None:
    @router.post(f"/nodes/{{node_id}}/{action}", response_model=s.NodeOut, name=f"{action}_node")
    def change(node_id: str, p: can("content.node.publish"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               if_match: IfMatch, response: Response) -> s.NodeOut:
        cmd = content.ChangeNodeStatus(p, path_id(node_id, "node"), action, if_match)
        return respond(response, content.change_node_status(cmd, services.uow(p.tenant_id, rid)), s.NodeOut)


for _action in ("publish", "unpublish", "archive", "restore"):
    _status_route(_action)


def _wrapper(module: str, path: str, kind: str, child_kind: str | None, child_path: str | None) -> None:
    """Routes of a module that is a view over nodes of one kind (and its children)."""

    @router.post(f"/{path}", status_code=201, response_model=s.NodeOut, tags=[module], name=f"create_{module}_{kind}")
    def create(body: s.NodeContent, p: can("content.node.create", module), services: ServicesDep,  # type: ignore[valid-type]
               rid: RequestId, response: Response) -> s.NodeOut:
        return _create(services, p, rid, s.NodeIn(kind=kind, **body.model_dump()), response)

    @router.get(f"/{path}", response_model=NodePage, tags=[module], name=f"list_{module}_{kind}")
    def list_(p: can("content.node.read", module), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              status: Literal["draft", "published", "archived"] | None = None,
              cursor: str | None = None, limit: Limit = 50) -> NodePage:
        return _list(services, p, rid, [kind], status, None, cursor, limit)

    if child_kind is None or child_path is None:
        return

    @router.post(f"/{path}/{{node_id}}/{child_path}", status_code=201, response_model=s.NodeOut, tags=[module],
                 name=f"create_{module}_{child_kind}")
    def create_child(node_id: str, body: s.NodeContent, p: can("content.node.create", module),  # type: ignore[valid-type]
                     services: ServicesDep, rid: RequestId, response: Response) -> s.NodeOut:
        parent = path_id(node_id, kind)
        with services.uow(p.tenant_id, rid) as uow:
            node = uow.nodes.get_root(parent)
        if node is None or node["root_id"] is None or node["kind"] not in (kind, child_kind):
            raise NotFound(f"no {kind} with id {node_id}")
        data = s.NodeIn(kind=child_kind, parent_id=parent, **body.model_dump())
        return _create(services, p, rid, data, response)

    @router.get(f"/{path}/{{node_id}}/{child_path}", response_model=NodePage, tags=[module], name=f"list_{module}_{child_kind}")
    def list_children(node_id: str, p: can("content.node.read", module), services: ServicesDep,  # type: ignore[valid-type]
                      rid: RequestId, cursor: str | None = None, limit: Limit = 100) -> NodePage:
        return _list(services, p, rid, [child_kind], None, node_id, cursor, limit)


_wrapper("blog", "blog/posts", "post", "comment", "comments")
_wrapper("forum", "forum/topics", "topic", "reply", "replies")
_wrapper("pages", "pages", "page", None, None)


add_category_routes(router, "/content/categories", "content.category", "content", categories.CONTENT,
                    s.ContentCategoryIn, s.ContentCategoryPatch, s.ContentCategoryOut)


@router.post("/content/tags", status_code=201, response_model=s.ContentTagOut)
def create_content_tag(body: s.ContentTagIn, p: can("content.tag.create"), services: ServicesDep,  # type: ignore[valid-type]
                       rid: RequestId, response: Response) -> s.ContentTagOut:
    written = content.create_content_tag(content.CreateContentTag(p, body), services.uow(p.tenant_id, rid))
    return respond(response, written, s.ContentTagOut)


@router.get("/content/tags", response_model=Page[s.ContentTagOut])
def list_content_tags(p: can("content.tag.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                      cursor: str | None = None, limit: Limit = 100) -> Page[s.ContentTagOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.nodes.list_tags(parse_cursor(cursor), limit), limit)
    return Page[s.ContentTagOut](items=[s.ContentTagOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.delete("/content/tags/{tag_id}", response_model=Deleted)
def delete_content_tag(tag_id: str, p: can("content.tag.delete"), services: ServicesDep,  # type: ignore[valid-type]
                       rid: RequestId, if_match: IfMatch, response: Response) -> Deleted:
    cmd = content.DeleteContentTag(p, path_id(tag_id, "tag"), if_match)
    return respond(response, content.delete_content_tag(cmd, services.uow(p.tenant_id, rid)), Deleted)
