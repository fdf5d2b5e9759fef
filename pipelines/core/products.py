"""Product documents: one per enabled locale of the tenant.

Which products have documents: every product row that exists, whatever its status
(draft, published, archived), with its status in the document — public search keys
filter on ``published``, admin keys see everything. A deleted product has none. A
product with no translation at all is still indexed, titled by its handle, with the
tenant's default locale as ``resolved_locale``.

Prices come from the default price list (``price_list_id`` null) at ``min_quantity``
1, per currency, never mixed. Stock is the sum of available quantity (stocked minus
reserved) over the inventory levels of the product's variants. A variant is in stock
when it has available quantity, does not manage inventory, or sells on backorder
(``inventory_policy = continue``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.documents import CategoryRef, PriceRange, ProductDocument, VariantDoc
from pipelines.core.flex import flex_of
from pipelines.core.lookup import CategoryNode, Lookup, Row, TenantView, pick, pick_name
from pipelines.core.tables import root_group, row_key
from pipelines.model import RootKey
from pipelines.state.port import StoredRow


@dataclass
class _Variant:
    row: Row
    options: dict[str, str]
    translations: dict[str, Row] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)
    available: int = 0

    @property
    def in_stock(self) -> bool:
        return self.available > 0 or not self.row["manage_inventory"] or self.row["inventory_policy"] == "continue"


@dataclass
class _Product:
    row: Row
    translations: dict[str, Row] = field(default_factory=dict)
    variants: dict[str, _Variant] = field(default_factory=dict)
    category_ids: list[tuple[int, str]] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    flex_entries: list[Row] = field(default_factory=list)
    # Built once per product, shared by its locales' documents.
    variant_docs: dict[tuple[str | None, ...], list[VariantDoc]] = field(default_factory=dict)
    prices: list[PriceRange] | None = None


def product_documents(root: RootKey, lookup: Lookup, version: int) -> tuple[ProductDocument, ...]:
    tenant_id = str(root.tenant_id)
    tenant = lookup.tenant(tenant_id)
    if tenant is None:
        return ()
    # The product's own row is one of its root's members (of this tenant, by the group's
    # name): one range of a spilled state gives it with the rest, where a get by key was
    # a random read of the state file's key index, most of a 1M rebuild's state reads.
    members = lookup.store.members(root_group("product", tenant_id, str(root.id)))
    main_key = row_key("commerce_products", str(root.id))
    main = next((m.row for key, m in members if key == main_key), None)
    if main is None:
        return ()
    product = _gather(main, members, lookup, tenant_id)
    return tuple(_document(product, locale, tenant, lookup, version) for locale in tenant.locales)


def _gather(main: Row, members: list[tuple[str, StoredRow]], lookup: Lookup, tenant_id: str) -> _Product:
    product = _Product(main)
    rows = [(key.partition(":")[0], m.row) for key, m in members if m.row is not None]
    for table, row in rows:
        if table == "commerce_variants":
            product.variants[row["id"]] = _Variant(row, _str_options(row["options"]))
    for table, row in rows:
        _add(product, table, row, lookup, tenant_id)
    return product


def _add(product: _Product, table: str, row: Row, lookup: Lookup, tenant_id: str) -> None:
    if table == "commerce_product_translations":
        product.translations[row["locale"]] = row
    elif table == "commerce_product_categories":
        product.category_ids.append((row["position"], row["category_id"]))
    elif table == "commerce_product_tags":
        tag = lookup.row("commerce_tags", row["tag_id"], tenant_id)
        if tag is not None:
            product.tags.append(tag)
    elif table == "flex_entries":
        product.flex_entries.append(row)
    elif (variant := product.variants.get(row.get("variant_id", ""))) is not None:
        _add_to_variant(variant, table, row)


def _add_to_variant(variant: _Variant, table: str, row: Row) -> None:
    if table == "commerce_variant_translations":
        variant.translations[row["locale"]] = row
    elif table == "commerce_prices":
        if row["price_list_id"] is None and row["min_quantity"] == 1:
            currency = row["currency_code"]
            # Two live rows for one currency only exist transiently (a delete not yet seen);
            # the lower amount keeps the result independent of arrival order.
            old = variant.prices.get(currency)
            variant.prices[currency] = row["amount"] if old is None else min(old, row["amount"])
    elif table == "commerce_inventory_levels":
        variant.available += max(row["stocked_quantity"] - row["reserved_quantity"], 0)


def _str_options(raw: str | None) -> dict[str, str]:
    options: Any = orjson.loads(raw) if raw else {}
    if not isinstance(options, dict):
        return {}
    return {str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in options.items()}


def _document(product: _Product, locale: str, tenant: TenantView, lookup: Lookup, version: int) -> ProductDocument:
    chain = lookup.chain(locale, tenant)
    main = product.row
    found = pick(product.translations, chain, any_locale=True)
    text: Row = found[0] if found else {"title": main["handle"]}
    variants = _variant_docs(product, chain)
    categories = _category_refs(product, chain, lookup, tenant.id)
    tags = sorted(product.tags, key=lambda t: t["slug"])
    return ProductDocument(
        id=main["id"], tenant_id=main["tenant_id"], locale=locale,
        resolved_locale=found[1] if found else tenant.default_locale,
        handle=main["handle"], status=main["status"],
        title=text["title"], subtitle=text.get("subtitle"), description=text.get("description"),
        meta_title=text.get("meta_title"), meta_description=text.get("meta_description"),
        vendor=main["vendor"], product_type=main["product_type"],
        prices=_price_ranges(product), total_stock=sum(v.available for v in product.variants.values()),
        in_stock=any(v.in_stock for v in variants),
        categories=categories,
        category_names=list(dict.fromkeys(name for ref in categories for name in ref.path)),
        category_handles=list(dict.fromkeys(handle for ref in categories for handle in ref.path_handles)),
        tags=[t["name"] for t in tags], tag_slugs=[t["slug"] for t in tags],
        variants=variants, skus=[v.sku for v in variants if v.sku],
        options=_option_values(variants),
        flex=flex_of(product.flex_entries, lookup, tenant.id),
        published_at=main["published_at"], created_at=main["created_at"], updated_at=main["updated_at"],
        version=version,
    )


def _variant_order(variant: _Variant) -> tuple[int, str]:
    return variant.row["position"], variant.row["id"]


def _variant_docs(product: _Product, chain: tuple[str, ...]) -> list[VariantDoc]:
    """Variant docs in this locale; locales that pick the same translations share them."""
    ordered = sorted(product.variants.values(), key=_variant_order)
    picks = [pick(v.translations, chain) for v in ordered]
    key = tuple(found[1] if found else None for found in picks)
    docs = product.variant_docs.get(key)
    if docs is None:
        docs = product.variant_docs[key] = [_variant_doc(v, found) for v, found in zip(ordered, picks, strict=True)]
    return docs


def _variant_doc(variant: _Variant, found: tuple[Row, str] | None) -> VariantDoc:
    options = dict(variant.options)
    if found is not None:
        options.update(_str_options(found[0]["options"]))
    row = variant.row
    return VariantDoc(
        id=row["id"], sku=row["sku"], barcode=row["barcode"], title=found[0]["title"] if found else None,
        options=options, prices=dict(sorted(variant.prices.items())),
        available=variant.available, in_stock=variant.in_stock,
    )


def _price_ranges(product: _Product) -> list[PriceRange]:
    if product.prices is None:
        amounts: dict[str, list[int]] = {}
        for variant in product.variants.values():
            for currency, amount in variant.prices.items():
                amounts.setdefault(currency, []).append(amount)
        product.prices = [PriceRange(currency=c, min=min(a), max=max(a)) for c, a in sorted(amounts.items())]
    return product.prices


def _option_values(variants: list[VariantDoc]) -> dict[str, list[str]]:
    values: dict[str, dict[str, None]] = {}
    for variant in variants:
        for name, value in variant.options.items():
            values.setdefault(name, {})[value] = None
    return {name: list(seen) for name, seen in values.items()}


def _category_refs(product: _Product, chain: tuple[str, ...], lookup: Lookup, tenant_id: str) -> list[CategoryRef]:
    refs = []
    cache = lookup.category_refs
    for _, category_id in sorted(product.category_ids):
        # Every product of the tenant linked to a category gets the same ref in a locale chain
        # (the tree is read once per build phase): built once, shared (refs are immutable).
        key = (tenant_id, category_id, chain)
        if key in cache:
            ref = cache[key]
        else:
            ref = cache[key] = _category_ref(category_id, chain, lookup, tenant_id)
        if ref is not None:
            refs.append(ref)
    return refs


def _category_ref(category_id: str, chain: tuple[str, ...], lookup: Lookup, tenant_id: str) -> CategoryRef | None:
    path = _path(category_id, lookup, tenant_id)
    if not path:
        return None
    names = [pick_name(node.names, chain, node.handle) for node in path]
    return CategoryRef(
        id=category_id, handle=path[-1].handle, name=names[-1],
        path=names, path_handles=[node.handle for node in path],
    )


def _path(category_id: str, lookup: Lookup, tenant_id: str) -> list[CategoryNode]:
    """Categories from the top of the tree down to ``category_id``; stops at a missing parent or a cycle."""
    path: list[CategoryNode] = []
    seen: set[str] = set()
    current: str | None = category_id
    while current is not None and current not in seen:
        node = lookup.category(current, tenant_id)
        if node is None:
            break
        seen.add(current)
        path.append(node)
        current = node.parent_id
    path.reverse()
    return path
