"""Catalogue commands: tags, price lists, and orders (the category tree: service/categories.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.ids import new_id
from write_api.domain.orders import PricedLine, next_order_status, order_totals
from write_api.errors import FieldError, InvalidInput
from write_api.schemas.commerce import OrderIn, OrderStatusIn, PriceListIn, TagIn
from write_api.service.common import Written, check_locales, found
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork


@dataclass(frozen=True)
class CreateTag:
    principal: Principal
    data: TagIn


@dataclass(frozen=True)
class DeleteTag:
    principal: Principal
    tag_id: UUID
    if_match: int | None


@dataclass(frozen=True)
class CreatePriceList:
    principal: Principal
    data: PriceListIn


@dataclass(frozen=True)
class PlaceOrder:
    principal: Principal
    data: OrderIn


@dataclass(frozen=True)
class ChangeOrderStatus:
    principal: Principal
    order_id: UUID
    data: OrderStatusIn
    if_match: int | None


def create_tag(cmd: CreateTag, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.catalog.add_tag(cmd.data.model_dump())
        uow.outbox.append("tag", row["id"], "TagCreated", {"id": str(row["id"]), "slug": row["slug"]})
        token = uow.commit()
    return Written(row, row["version"], token)


def delete_tag(cmd: DeleteTag, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.catalog.delete_tag(cmd.tag_id, cmd.if_match)
        uow.outbox.append("tag", cmd.tag_id, "TagDeleted", {"id": str(cmd.tag_id), "slug": row["slug"]})
        token = uow.commit()
    return Written({"id": str(cmd.tag_id), "deleted": True}, None, token)


def create_price_list(cmd: CreatePriceList, uow: UnitOfWork) -> Written:
    data = cmd.data
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise InvalidInput("the period ends before it starts", (FieldError(("body", "ends_at"), "must be after starts_at"),))
    with uow:
        row = uow.catalog.add_price_list(data.model_dump())
        uow.outbox.append("price_list", row["id"], "PriceListCreated", {"id": str(row["id"]), "slug": row["slug"]})
        token = uow.commit()
    return Written(row, row["version"], token)


def _order_lines(uow: UnitOfWork, data: OrderIn) -> list[dict[str, Any]]:
    variants = uow.orders.sellable_variants(line.variant_id for line in data.lines)
    price_list_id = None
    if data.price_list:
        lists = uow.catalog.price_list_ids([data.price_list])
        if data.price_list not in lists:
            raise InvalidInput("unknown price list", (FieldError(("body", "price_list"), f"no price list {data.price_list!r}"),))
        price_list_id = lists[data.price_list]
    prices = uow.orders.prices(variants, data.currency_code, price_list_id)
    errors: list[FieldError] = []
    lines: list[dict[str, Any]] = []
    for i, line in enumerate(data.lines):
        variant = variants.get(line.variant_id)
        if variant is None or variant["status"] != "published":
            errors.append(FieldError(("body", "lines", i, "variant_id"), "no published variant with this id"))
            continue
        # The best tier the quantity reaches: highest min_quantity not above the quantity.
        tiers = [p for p in prices if p["variant_id"] == line.variant_id and p["min_quantity"] <= line.quantity]
        if not tiers:
            errors.append(FieldError(("body", "lines", i, "variant_id"), f"no {data.currency_code} price for this quantity"))
            continue
        unit = max(tiers, key=lambda p: p["min_quantity"])["amount"]
        lines.append({"product_id": variant["product_id"], "variant_id": line.variant_id, "sku": variant["sku"],
                      "title": variant["sku"] or variant["handle"], "quantity": line.quantity,
                      "currency_code": data.currency_code, "unit_price": unit, "total": unit * line.quantity})
    if errors:
        raise InvalidInput("some order lines cannot be priced", tuple(errors))
    return lines


def place_order(cmd: PlaceOrder, uow: UnitOfWork) -> Written:
    data = cmd.data
    with uow:
        lines = _order_lines(uow, data)
        totals = order_totals([PricedLine(line["quantity"], line["unit_price"]) for line in lines],
                              tax=data.tax_total, shipping=data.shipping_total, discount=data.discount_total)
        order = {"number": uow.orders.next_number(), "customer_id": cmd.principal.user_id, "email": data.email,
                 "currency_code": data.currency_code, "subtotal": totals.subtotal, "tax_total": totals.tax_total,
                 "shipping_total": totals.shipping_total, "discount_total": totals.discount_total,
                 "total": totals.total, "shipping_address": data.shipping_address, "billing_address": data.billing_address}
        order_id = new_id()
        root = uow.orders.add({"id": order_id, **order}, [{**line, "order_id": order_id} for line in lines])
        uow.outbox.append("order", root["id"], "OrderPlaced", {"id": str(root["id"]), "number": root["number"],
                                                               "total": totals.total, "currency_code": data.currency_code})
        view = found(uow.orders.load(root["id"]), "order", root["id"])
        token = uow.commit()
    return Written(view, root["version"], token)


def change_order_status(cmd: ChangeOrderStatus, uow: UnitOfWork) -> Written:
    with uow:
        current = uow.orders.touch(cmd.order_id, cmd.if_match)
        status = next_order_status(current["status"], cmd.data.status)
        root = uow.orders.touch(cmd.order_id, None, {"status": status})
        uow.outbox.append("order", cmd.order_id, f"Order{status.title()}", {"id": str(cmd.order_id), "status": status})
        view = found(uow.orders.load(cmd.order_id), "order", cmd.order_id)
        token = uow.commit()
    return Written(view, root["version"], token)
