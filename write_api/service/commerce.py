"""Commerce commands and their handlers: products, variants, prices, inventory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contracts.ids import new_id
from write_api.adapters.commerce_repo import assemble_product
from write_api.domain.lifecycle import EVENT_NAMES, Action, transition
from write_api.errors import Conflict, FieldError, InvalidInput, NotFound
from write_api.schemas.commerce import (
    InventorySet, PriceIn, ProductIn, ProductPatch, ProductReplace, ProductTranslationIn, VariantIn, VariantPatch,
)
from write_api.service.common import Written, check_locales, check_unique, conflict_at, found, missing_refs
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CreateProduct:
    principal: Principal
    data: ProductIn


@dataclass(frozen=True)
class UpdateProduct:
    principal: Principal
    product_id: UUID
    data: ProductPatch | ProductReplace
    if_match: int | None


@dataclass(frozen=True)
class DeleteProduct:
    principal: Principal
    product_id: UUID
    if_match: int | None


@dataclass(frozen=True)
class ChangeProductStatus:
    principal: Principal
    product_id: UUID
    action: Action
    if_match: int | None


@dataclass(frozen=True)
class AddVariant:
    principal: Principal
    product_id: UUID
    data: VariantIn
    if_match: int | None


@dataclass(frozen=True)
class UpdateVariant:
    principal: Principal
    product_id: UUID
    variant_id: UUID
    data: VariantPatch
    if_match: int | None


@dataclass(frozen=True)
class RemoveVariant:
    principal: Principal
    product_id: UUID
    variant_id: UUID
    if_match: int | None


@dataclass(frozen=True)
class SetInventory:
    principal: Principal
    product_id: UUID
    variant_id: UUID
    location: str
    data: InventorySet
    if_match: int | None


def _translation_rows(product_id: UUID, items: list[ProductTranslationIn]) -> list[dict[str, Any]]:
    return [{"product_id": product_id, **t.model_dump()} for t in items]


def _variant_locales(variants: list[VariantIn], base: Path) -> list[tuple[Path, str]]:
    return [((*base, i, "translations", j, "locale"), t.locale) for i, v in enumerate(variants) for j, t in enumerate(v.translations)]


def _variant_rows(product_id: UUID, variants: list[VariantIn], lists: dict[str, UUID], start: int = 0) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"commerce_variants": [], "commerce_variant_translations": [],
                                             "commerce_prices": [], "commerce_inventory_levels": []}
    for offset, v in enumerate(variants):
        vid = new_id()
        rows["commerce_variants"].append({
            "id": vid, "product_id": product_id, "sku": v.sku, "barcode": v.barcode, "options": v.options,
            "inventory_policy": v.inventory_policy, "manage_inventory": v.manage_inventory,
            "weight_grams": v.weight_grams, "position": v.position if v.position is not None else start + offset,
        })
        rows["commerce_variant_translations"] += [{"product_id": product_id, "variant_id": vid, **t.model_dump()} for t in v.translations]
        rows["commerce_prices"] += _price_rows(product_id, vid, v.prices, lists)
        rows["commerce_inventory_levels"] += [{"product_id": product_id, "variant_id": vid, **s.model_dump()} for s in v.inventory]
    return rows


def _price_rows(product_id: UUID, variant_id: UUID, prices: list[PriceIn], lists: dict[str, UUID]) -> list[dict[str, Any]]:
    return [{"product_id": product_id, "variant_id": variant_id, "currency_code": p.currency_code, "amount": p.amount,
             "compare_at_amount": p.compare_at_amount, "min_quantity": p.min_quantity,
             "price_list_id": lists[p.price_list] if p.price_list else None} for p in prices]


def _check_prices(prices: list[PriceIn], base: Path) -> None:
    keys = [f"{p.currency_code}/{p.price_list or ''}/{p.min_quantity}" for p in prices]
    check_unique(list(keys), lambda i: (*base, i), "price (currency, price list, minimum quantity)")


def _check_variants(principal: Principal, variants: list[VariantIn], base: Path) -> None:
    check_locales(principal, _variant_locales(variants, base))
    check_unique([v.sku for v in variants], lambda i: (*base, i, "sku"), "SKU")
    for i, v in enumerate(variants):
        _check_prices(v.prices, (*base, i, "prices"))
        check_unique([s.location for s in v.inventory], lambda j, i=i: (*base, i, "inventory", j, "location"), "location")


def _resolve_price_lists(uow: UnitOfWork, variants: list[tuple[Path, list[PriceIn]]]) -> dict[str, UUID]:
    wanted = {p.price_list for _, prices in variants for p in prices if p.price_list}
    lists = uow.catalog.price_list_ids(sorted(wanted))
    errors = [FieldError((*base, j, "price_list"), f"no price list {p.price_list!r}")
              for base, prices in variants for j, p in enumerate(prices) if p.price_list and p.price_list not in lists]
    if errors:
        raise InvalidInput("unknown price list", tuple(errors))
    return lists


SKU_UNIQUE = "uq_commerce_variants_tenant_id_sku"


def _ensure_skus_free(uow: UnitOfWork, skus: list[tuple[Path, str | None]], except_variant: UUID | None = None) -> None:
    taken = uow.products.skus_taken([s for _, s in skus if s], except_variant=except_variant)
    if taken:
        raise conflict_at([(p, s) for p, s in skus if s in taken], "a variant with this SKU already exists")


def _links(uow: UnitOfWork, product_id: UUID, category_ids: list[UUID] | None, tags: list[str] | None) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    categories = None
    if category_ids is not None:
        check_unique([str(c) for c in category_ids], lambda i: ("body", "category_ids", i), "category")
        missing_refs(category_ids, uow.catalog.categories.ids(category_ids), lambda i: ("body", "category_ids", i), "category")
        categories = [{"product_id": product_id, "category_id": c, "position": 0} for c in category_ids]
    tag_rows = None
    if tags is not None:
        ids = uow.catalog.tag_ids(sorted(set(tags)), create=True)
        tag_rows = [{"product_id": product_id, "tag_id": ids[s]} for s in sorted(set(tags))]
    return categories, tag_rows


def create_product(cmd: CreateProduct, uow: UnitOfWork) -> Written:
    """One round trip for a product without price lists, categories or tags to look up: the
    rows go with the COMMIT, and a SKU taken by another product surfaces as the database's
    unique violation, re-checked afterwards to name the variant."""
    data, pid = cmd.data, new_id()
    check_locales(cmd.principal, [(("body", "translations", i, "locale"), t.locale) for i, t in enumerate(data.translations)])
    _check_variants(cmd.principal, data.variants, ("body", "variants"))
    skus: list[tuple[Path, str | None]] = [(("body", "variants", i, "sku"), v.sku) for i, v in enumerate(data.variants)]
    product = {"id": pid, "handle": data.handle, "status": data.status, "vendor": data.vendor,
               "product_type": data.product_type, "discountable": data.discountable, "metadata": data.metadata,
               "published_at": datetime.now(UTC) if data.status == "published" else None}
    try:
        with uow:
            lists = _resolve_price_lists(uow, [(("body", "variants", i, "prices"), v.prices) for i, v in enumerate(data.variants)])
            categories, tags = _links(uow, pid, data.category_ids, data.tags)
            children = {"commerce_product_translations": _translation_rows(pid, data.translations),
                        "commerce_product_categories": categories or [], "commerce_product_tags": tags or [],
                        **_variant_rows(pid, data.variants, lists)}
            root = uow.products.add(product, children)
            uow.outbox.append("product", pid, "ProductCreated", {"id": str(pid), "handle": data.handle, "status": data.status,
                                                                 "variants": len(data.variants)})
            token = uow.commit()
    except Conflict as error:
        if error.constraint == SKU_UNIQUE:
            with uow:
                _ensure_skus_free(uow, skus)
        raise
    return Written(assemble_product({**root, "version": uow.written_version}, children, sorted(set(data.tags or []))),
                   uow.written_version, token)


def update_product(cmd: UpdateProduct, uow: UnitOfWork) -> Written:
    data, pid = cmd.data, cmd.product_id
    fields = data.model_dump(exclude_unset=not isinstance(data, ProductReplace),
                             exclude={"translations", "category_ids", "tags"})
    if "metadata" in fields:
        fields["metadata"] = fields["metadata"] or {}
    if data.translations is not None:
        check_locales(cmd.principal, [(("body", "translations", i, "locale"), t.locale) for i, t in enumerate(data.translations)])
    with uow:
        root = uow.products.touch(pid, cmd.if_match, {k: v for k, v in fields.items() if v is not None or k in ("vendor", "product_type")})
        if data.translations is not None:
            uow.products.replace_translations(pid, _translation_rows(pid, data.translations))
        categories, tags = _links(uow, pid, data.category_ids, data.tags)
        uow.products.replace_links(pid, categories, tags)
        uow.outbox.append("product", pid, "ProductUpdated", {"id": str(pid), "fields": sorted(data.model_fields_set)})
        view = found(uow.products.load(pid), "product", pid)
        token = uow.commit()
    return Written(view, root["version"], token)


def delete_product(cmd: DeleteProduct, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.products.delete(cmd.product_id, cmd.if_match)
        uow.outbox.append("product", cmd.product_id, "ProductDeleted", {"id": str(cmd.product_id), "handle": row["handle"]})
        token = uow.commit()
    return Written({"id": str(cmd.product_id), "deleted": True}, None, token)


def change_product_status(cmd: ChangeProductStatus, uow: UnitOfWork) -> Written:
    with uow:
        current = uow.products.touch(cmd.product_id, cmd.if_match)
        status = transition(current["status"], cmd.action)
        values: dict[str, Any] = {"status": status}
        if status == "published":
            values["published_at"] = datetime.now(UTC)
        root = uow.products.touch(cmd.product_id, None, values)
        uow.outbox.append("product", cmd.product_id, f"Product{EVENT_NAMES[cmd.action]}",
                          {"id": str(cmd.product_id), "handle": root["handle"], "status": status})
        view = found(uow.products.load(cmd.product_id), "product", cmd.product_id)
        token = uow.commit()
    return Written(view, root["version"], token)


def add_variant(cmd: AddVariant, uow: UnitOfWork) -> Written:
    pid, variant = cmd.product_id, cmd.data
    _check_variants(cmd.principal, [variant], ("body", "variants"))
    with uow:
        root = uow.products.touch(pid, cmd.if_match)
        _ensure_skus_free(uow, [(("body", "sku"), variant.sku)])
        lists = _resolve_price_lists(uow, [(("body", "prices"), variant.prices)])
        rows = _variant_rows(pid, [variant], lists, start=uow.products.variant_count(pid))
        for table in ("commerce_variants", "commerce_variant_translations", "commerce_prices", "commerce_inventory_levels"):
            uow.products.add_children(table, rows[table])
        vid = rows["commerce_variants"][0]["id"]
        uow.outbox.append("product", pid, "VariantAdded", {"id": str(pid), "variant_id": str(vid), "sku": variant.sku})
        view = found(uow.products.load(pid), "product", pid)
        token = uow.commit()
    return Written(view, root["version"], token)


def update_variant(cmd: UpdateVariant, uow: UnitOfWork) -> Written:
    pid, vid, data = cmd.product_id, cmd.variant_id, cmd.data
    if data.translations is not None:
        check_locales(cmd.principal, [(("body", "translations", j, "locale"), t.locale) for j, t in enumerate(data.translations)])
    if data.prices is not None:
        _check_prices(data.prices, ("body", "prices"))
    with uow:
        root = uow.products.touch(pid, cmd.if_match)
        if uow.products.variant(pid, vid) is None:
            raise NotFound(f"no variant with id {vid} in this product")
        if data.sku is not None:
            _ensure_skus_free(uow, [(("body", "sku"), data.sku)], except_variant=vid)
        uow.products.update_variant(vid, data.model_dump(exclude_unset=True, exclude={"translations", "prices"}))
        if data.translations is not None:
            uow.products.replace_variant_children(vid, "commerce_variant_translations", [
                {"product_id": pid, "variant_id": vid, **t.model_dump()} for t in data.translations])
        if data.prices is not None:
            lists = _resolve_price_lists(uow, [(("body", "prices"), data.prices)])
            uow.products.replace_variant_children(vid, "commerce_prices", _price_rows(pid, vid, data.prices, lists))
        uow.outbox.append("product", pid, "VariantUpdated", {"id": str(pid), "variant_id": str(vid),
                                                            "fields": sorted(data.model_fields_set)})
        view = found(uow.products.load(pid), "product", pid)
        token = uow.commit()
    return Written(view, root["version"], token)


def remove_variant(cmd: RemoveVariant, uow: UnitOfWork) -> Written:
    with uow:
        root = uow.products.touch(cmd.product_id, cmd.if_match)
        if uow.products.variant(cmd.product_id, cmd.variant_id) is None:
            raise NotFound(f"no variant with id {cmd.variant_id} in this product")
        uow.products.delete_variant(cmd.variant_id)
        uow.outbox.append("product", cmd.product_id, "VariantRemoved",
                          {"id": str(cmd.product_id), "variant_id": str(cmd.variant_id)})
        view = found(uow.products.load(cmd.product_id), "product", cmd.product_id)
        token = uow.commit()
    return Written(view, root["version"], token)


def set_inventory(cmd: SetInventory, uow: UnitOfWork) -> Written:
    if cmd.data.reserved_quantity > cmd.data.stocked_quantity:
        raise InvalidInput("cannot reserve more than is stocked",
                           (FieldError(("body", "reserved_quantity"), "at most stocked_quantity"),))
    with uow:
        root = uow.products.touch(cmd.product_id, cmd.if_match)
        if uow.products.variant(cmd.product_id, cmd.variant_id) is None:
            raise NotFound(f"no variant with id {cmd.variant_id} in this product")
        uow.products.set_inventory({"product_id": cmd.product_id, "variant_id": cmd.variant_id,
                                    "location": cmd.location, **cmd.data.model_dump()})
        uow.outbox.append("product", cmd.product_id, "InventoryLevelSet",
                          {"id": str(cmd.product_id), "variant_id": str(cmd.variant_id), "location": cmd.location,
                           "stocked_quantity": cmd.data.stocked_quantity})
        view = found(uow.products.load(cmd.product_id), "product", cmd.product_id)
        token = uow.commit()
    return Written(view, root["version"], token)
