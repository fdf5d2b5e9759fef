"""Commerce routes: products, variants, inventory, categories, tags, price lists, orders."""

# No `from __future__ import annotations` here: FastAPI must see the permission
# dependencies (built per route, some inside closures) as objects, not strings.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from write_api.domain.lifecycle import Action
from write_api.routes.categories import add_category_routes
from write_api.routes.deps import (
    Caller, IfMatch, RequestId, ServicesDep, authorize, authorize_in_endpoint, path_id, respond, show, written_json,
)
from write_api.schemas import commerce as s
from write_api.schemas.common import Deleted, Page, Slug
from write_api.service import catalog, categories, commerce
from write_api.service.common import Written, found, page, parse_cursor
from write_api.service.principal import Principal

router = APIRouter(prefix="/v1", tags=["commerce"])
Limit = Annotated[int, Query(ge=1, le=200)]


def can(permission: str) -> type[Principal]:
    return Annotated[Principal, Depends(authorize(permission, "commerce"))]  # type: ignore[return-value]


@router.post("/products", status_code=201, response_model=s.ProductOut)
async def create_product(body: s.ProductIn,
                         caller: Annotated[Caller, Depends(authorize_in_endpoint("commerce.product.create", "commerce"))],
                         services: ServicesDep, rid: RequestId) -> Response:
    # The hot write route: one cheap thread hop for the principal lookup and the write
    # together, and a response serialized once (see Caller, in_worker and written_json).
    def create() -> Written:
        p = caller.principal()
        return commerce.create_product(commerce.CreateProduct(p, body), services.uow(p.tenant_id, rid))

    return written_json(await services.in_worker(create), s.ProductOut, 201)


@router.get("/products", response_model=Page[s.ProductOut])
def list_products(p: can("commerce.product.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                  status: Literal["draft", "published", "archived"] | None = None,
                  cursor: str | None = None, limit: Limit = 50) -> Page[s.ProductOut]:
    with services.uow(p.tenant_id, rid) as uow:
        items = uow.products.load_many(uow.products.list_roots(status, parse_cursor(cursor), limit))
    listed = page(items, limit)
    return Page[s.ProductOut](items=[s.ProductOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.get("/products/{product_id}", response_model=s.ProductOut)
def get_product(product_id: str, p: can("commerce.product.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                response: Response) -> s.ProductOut:
    pid = path_id(product_id, "product")
    with services.uow(p.tenant_id, rid) as uow:
        body = found(uow.products.load(pid), "product", pid)
    return show(response, body, s.ProductOut)


@router.put("/products/{product_id}", response_model=s.ProductOut)
def replace_product(product_id: str, body: s.ProductReplace, p: can("commerce.product.update"),  # type: ignore[valid-type]
                    services: ServicesDep, rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.UpdateProduct(p, path_id(product_id, "product"), body, if_match)
    return respond(response, commerce.update_product(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


@router.patch("/products/{product_id}", response_model=s.ProductOut)
def patch_product(product_id: str, body: s.ProductPatch, p: can("commerce.product.update"),  # type: ignore[valid-type]
                  services: ServicesDep, rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.UpdateProduct(p, path_id(product_id, "product"), body, if_match)
    return respond(response, commerce.update_product(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


@router.delete("/products/{product_id}", response_model=Deleted)
def delete_product(product_id: str, p: can("commerce.product.delete"), services: ServicesDep,  # type: ignore[valid-type]
                   rid: RequestId, if_match: IfMatch, response: Response) -> Deleted:
    cmd = commerce.DeleteProduct(p, path_id(product_id, "product"), if_match)
    return respond(response, commerce.delete_product(cmd, services.uow(p.tenant_id, rid)), Deleted)


def _status_route(action: Action) -> None:
    @router.post(f"/products/{{product_id}}/{action}", response_model=s.ProductOut, name=f"{action}_product")
    def change(product_id: str, p: can("commerce.product.publish"), services: ServicesDep,  # type: ignore[valid-type]
               rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
        cmd = commerce.ChangeProductStatus(p, path_id(product_id, "product"), action, if_match)
        return respond(response, commerce.change_product_status(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


for _action in ("publish", "unpublish", "archive", "restore"):
    _status_route(_action)


@router.post("/products/{product_id}/variants", status_code=201, response_model=s.ProductOut)
def add_variant(product_id: str, body: s.VariantIn, p: can("commerce.product.update"), services: ServicesDep,  # type: ignore[valid-type]
                rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.AddVariant(p, path_id(product_id, "product"), body, if_match)
    return respond(response, commerce.add_variant(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


@router.patch("/products/{product_id}/variants/{variant_id}", response_model=s.ProductOut)
def update_variant(product_id: str, variant_id: str, body: s.VariantPatch, p: can("commerce.product.update"),  # type: ignore[valid-type]
                   services: ServicesDep, rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.UpdateVariant(p, path_id(product_id, "product"), path_id(variant_id, "variant"), body, if_match)
    return respond(response, commerce.update_variant(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


@router.delete("/products/{product_id}/variants/{variant_id}", response_model=s.ProductOut)
def remove_variant(product_id: str, variant_id: str, p: can("commerce.product.update"), services: ServicesDep,  # type: ignore[valid-type]
                   rid: RequestId, if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.RemoveVariant(p, path_id(product_id, "product"), path_id(variant_id, "variant"), if_match)
    return respond(response, commerce.remove_variant(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


@router.put("/products/{product_id}/variants/{variant_id}/inventory/{location}", response_model=s.ProductOut)
def set_inventory(product_id: str, variant_id: str, location: Slug, body: s.InventorySet,
                  p: can("commerce.inventory.update"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                  if_match: IfMatch, response: Response) -> s.ProductOut:
    cmd = commerce.SetInventory(p, path_id(product_id, "product"), path_id(variant_id, "variant"), location, body, if_match)
    return respond(response, commerce.set_inventory(cmd, services.uow(p.tenant_id, rid)), s.ProductOut)


add_category_routes(router, "/categories", "commerce.category", "commerce", categories.COMMERCE,
                    s.CategoryIn, s.CategoryPatch, s.CategoryOut)


@router.post("/tags", status_code=201, response_model=s.TagOut)
def create_tag(body: s.TagIn, p: can("commerce.tag.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               response: Response) -> s.TagOut:
    return respond(response, catalog.create_tag(catalog.CreateTag(p, body), services.uow(p.tenant_id, rid)), s.TagOut)


@router.get("/tags", response_model=Page[s.TagOut])
def list_tags(p: can("commerce.tag.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              cursor: str | None = None, limit: Limit = 100) -> Page[s.TagOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.catalog.list_tags(parse_cursor(cursor), limit), limit)
    return Page[s.TagOut](items=[s.TagOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.delete("/tags/{tag_id}", response_model=Deleted)
def delete_tag(tag_id: str, p: can("commerce.tag.delete"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
               if_match: IfMatch, response: Response) -> Deleted:
    cmd = catalog.DeleteTag(p, path_id(tag_id, "tag"), if_match)
    return respond(response, catalog.delete_tag(cmd, services.uow(p.tenant_id, rid)), Deleted)


@router.post("/price-lists", status_code=201, response_model=s.PriceListOut)
def create_price_list(body: s.PriceListIn, p: can("commerce.price_list.create"), services: ServicesDep,  # type: ignore[valid-type]
                      rid: RequestId, response: Response) -> s.PriceListOut:
    written = catalog.create_price_list(catalog.CreatePriceList(p, body), services.uow(p.tenant_id, rid))
    return respond(response, written, s.PriceListOut)


@router.get("/price-lists", response_model=Page[s.PriceListOut])
def list_price_lists(p: can("commerce.price_list.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                     cursor: str | None = None, limit: Limit = 100) -> Page[s.PriceListOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.catalog.list_price_lists(parse_cursor(cursor), limit), limit)
    return Page[s.PriceListOut](items=[s.PriceListOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.post("/orders", status_code=201, response_model=s.OrderOut)
def place_order(body: s.OrderIn, p: can("commerce.order.create"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                response: Response) -> s.OrderOut:
    return respond(response, catalog.place_order(catalog.PlaceOrder(p, body), services.uow(p.tenant_id, rid)), s.OrderOut)


@router.get("/orders", response_model=Page[s.OrderOut])
def list_orders(p: can("commerce.order.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
                cursor: str | None = None, limit: Limit = 50) -> Page[s.OrderOut]:
    with services.uow(p.tenant_id, rid) as uow:
        listed = page(uow.orders.list(parse_cursor(cursor), limit), limit)
    return Page[s.OrderOut](items=[s.OrderOut.model_validate(i) for i in listed.items], next_cursor=listed.next_cursor)


@router.get("/orders/{order_id}", response_model=s.OrderOut)
def get_order(order_id: str, p: can("commerce.order.read"), services: ServicesDep, rid: RequestId,  # type: ignore[valid-type]
              response: Response) -> s.OrderOut:
    oid = path_id(order_id, "order")
    with services.uow(p.tenant_id, rid) as uow:
        body = found(uow.orders.load(oid), "order", oid)
    return show(response, body, s.OrderOut)


@router.post("/orders/{order_id}/status", response_model=s.OrderOut)
def change_order_status(order_id: str, body: s.OrderStatusIn, p: can("commerce.order.update"),  # type: ignore[valid-type]
                        services: ServicesDep, rid: RequestId, if_match: IfMatch, response: Response) -> s.OrderOut:
    cmd = catalog.ChangeOrderStatus(p, path_id(order_id, "order"), body, if_match)
    return respond(response, catalog.change_order_status(cmd, services.uow(p.tenant_id, rid)), s.OrderOut)
