"""The database itself refuses bad rows, whatever code writes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from contracts.ids import new_id
from rustok import demo
from write_api.models import commerce, content, flex, tenancy

T = demo.TENANT_ID
TEE = demo.demo_id("product", "organic-cotton-tee")
TEE_M = demo.demo_id("variant", "organic-cotton-tee", "M")
MUG = demo.demo_id("product", "ceramic-mug")


@pytest.fixture
def seeded(engine: sa.Engine) -> Iterator[sa.Engine]:
    demo.seed_demo(engine)
    yield engine


@pytest.fixture
def other_tenant(seeded: sa.Engine) -> Any:
    other = new_id()
    with seeded.begin() as conn:
        tenants = cast(sa.Table, tenancy.Tenant.__table__)  # a Table, typed as FromClause by the ORM stubs
        conn.execute(insert(tenants), {"id": other, "slug": "other", "name": "Other", "default_locale": "de"})
    return other


def _insert(engine: sa.Engine, model: Any, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(model.__table__), {"id": new_id(), **values})


def _rejects(engine: sa.Engine, model: Any, constraint: str, **values: Any) -> None:
    with pytest.raises(sa.exc.IntegrityError, match=constraint):
        _insert(engine, model, **values)


def test_handles_are_unique_per_tenant_but_free_across_tenants(seeded: sa.Engine, other_tenant: Any) -> None:
    _rejects(seeded, commerce.Product, "uq_commerce_products_tenant_id_handle", tenant_id=T, handle="ceramic-mug")
    _insert(seeded, commerce.Product, tenant_id=other_tenant, handle="ceramic-mug")


def test_slugs_are_unique_per_tenant_and_locale(seeded: sa.Engine) -> None:
    page = new_id()
    _insert(seeded, content.Node, id=page, tenant_id=T, kind="page", root_id=page)
    _rejects(seeded, content.NodeTranslation, "uq_node_translations_tenant_id_locale_slug",
             tenant_id=T, node_id=page, locale="en", slug="about", title="Dup")
    _insert(seeded, content.NodeTranslation, tenant_id=T, node_id=page, locale="fr", slug="about", title="À propos")


def test_skus_are_unique_per_tenant(seeded: sa.Engine) -> None:
    _rejects(seeded, commerce.Variant, "uq_commerce_variants_tenant_id_sku", tenant_id=T, product_id=MUG,
             sku="ORGANIC-COTTON-TEE-M")


@pytest.mark.parametrize(("model", "constraint", "values"), [
    (commerce.ProductTranslation, "locale_format", {"product_id": TEE, "locale": "en_US", "title": "x"}),
    (commerce.ProductTranslation, "title_length", {"product_id": TEE, "locale": "fr", "title": "   "}),
    (commerce.Product, "handle_format", {"handle": "Not A Handle"}),
    (commerce.Product, "status_valid", {"handle": "x-1", "status": "live"}),
    (commerce.Product, "published_has_date", {"handle": "x-2", "status": "published"}),
    (commerce.Price, "currency_code_format", {"product_id": TEE, "variant_id": TEE_M, "currency_code": "eur", "amount": 1}),
    (commerce.Price, "amount_non_negative", {"product_id": TEE, "variant_id": TEE_M, "currency_code": "GBP", "amount": -1}),
    (commerce.Price, "min_quantity_positive",
     {"product_id": TEE, "variant_id": TEE_M, "currency_code": "GBP", "amount": 1, "min_quantity": 0}),
    (commerce.InventoryLevel, "non_negative",
     {"product_id": TEE, "variant_id": TEE_M, "location": "berlin", "stocked_quantity": -5, "reserved_quantity": -5}),
    (commerce.InventoryLevel, "reserved_within_stock",
     {"product_id": TEE, "variant_id": TEE_M, "location": "berlin", "stocked_quantity": 1, "reserved_quantity": 2}),
    (commerce.Order, "total_adds_up", {"number": 1, "currency_code": "EUR", "subtotal": 100, "total": 90}),
    (content.NodeBody, "format_valid",
     {"node_id": demo.demo_id("node", "page", "about"), "locale": "fr", "body": "x", "format": "rtf"}),
    (tenancy.TenantLocale, "locale_format", {"locale": "english"}),
    (tenancy.TenantModule, "module_valid", {"module": "crm"}),
    (flex.FlexSchema, "fields_bounded", {"slug": "too-many", "name": "x", "fields": [{"name": f"f{i}"} for i in range(51)]}),
    (flex.FlexSchema, "fields_bounded", {"slug": "not-array", "name": "x", "fields": {"a": 1}}),
])
def test_bad_values_are_refused(seeded: sa.Engine, model: Any, constraint: str, values: dict[str, Any]) -> None:
    _rejects(seeded, model, constraint, tenant_id=T, **values)


def test_a_price_cannot_name_a_variant_of_another_product(seeded: sa.Engine) -> None:
    _rejects(seeded, commerce.Price, "fk_commerce_prices_tenant_id_product_id_variant_id",
             tenant_id=T, product_id=MUG, variant_id=TEE_M, currency_code="GBP", amount=100)


def test_rows_cannot_reference_another_tenants_rows(seeded: sa.Engine, other_tenant: Any) -> None:
    _rejects(seeded, commerce.Variant, "fk_commerce_variants_tenant_id_product_id",
             tenant_id=other_tenant, product_id=TEE, sku="STOLEN-1")
    _rejects(seeded, commerce.ProductCategory, "fk_commerce_product_categories_tenant_id_",
             tenant_id=other_tenant, product_id=TEE, category_id=demo.demo_id("category", "mugs"))


def test_comments_need_a_parent_and_a_root_other_than_themselves(seeded: sa.Engine) -> None:
    orphan = new_id()
    _rejects(seeded, content.Node, "root_matches_kind", id=orphan, tenant_id=T, kind="comment", root_id=orphan)


def test_deleting_a_product_removes_its_children_and_deleting_a_user_keeps_their_posts(seeded: sa.Engine) -> None:
    with seeded.begin() as conn:
        products = cast(sa.Table, commerce.Product.__table__)  # a Table, typed as FromClause by the ORM stubs
        conn.execute(sa.delete(products).where(products.c.id == TEE))
        conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": demo.demo_id("user", "editor")})
        left = {name: conn.execute(sa.text(f"SELECT count(*) FROM {name} WHERE product_id = :p"), {"p": TEE}).scalar()
                for name in ("commerce_variants", "commerce_prices", "commerce_inventory_levels",
                             "commerce_product_translations", "commerce_product_tags")}
        authors = conn.execute(sa.text("SELECT count(*), count(author_id) FROM nodes WHERE kind IN ('page', 'post')")).one()
        tenants = conn.execute(sa.text("SELECT tenant_id FROM nodes WHERE kind = 'page'")).scalars().all()
    assert set(left.values()) == {0}
    assert tuple(authors) == (4, 0)
    assert set(tenants) == {T}


def test_deleting_a_tenant_removes_all_of_its_rows(seeded: sa.Engine) -> None:
    with seeded.begin() as conn:
        conn.execute(sa.text("DELETE FROM tenants WHERE id = :t"), {"t": T})
        tables = conn.execute(sa.text(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = 'public'"
            " AND table_name NOT IN ('outbox', 'index_products', 'index_content')")).scalars().all()
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
    assert set(counts.values()) == {0}
