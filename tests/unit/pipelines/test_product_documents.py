"""Product documents built from hand-made change events."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.documents import PriceRange, ProductDocument
from pipelines.core import Projector

from .builders import Stream
from .docs import by_locale, run


@pytest.fixture
def catalog(stream: Stream) -> dict[str, Any]:
    t = stream.tenant(locales=("en", "de", "ru"))
    apparel = stream.category(t, "apparel", {"en": "Apparel", "de": "Bekleidung", "ru": "Одежда"})
    tees = stream.category(t, "t-shirts", {"en": "T-shirts", "de": "T-Shirts"}, parent=apparel)
    tee = stream.product(t, "linen-tee", {"en": "Linen Tee", "de": "Leinen-T-Shirt"}, vendor="Acme")
    small = stream.variant(t, tee, "TEE-S", {"size": "S", "colour": "white"}, prices={"EUR": 2490, "USD": 2790},
                           stock=4)
    stream.variant(t, tee, "TEE-M", {"size": "M", "colour": "white"}, position=1,
                   prices={"EUR": 2690, "USD": 2990}, stock=0)
    stream.variant(t, tee, "TEE-L", {"size": "L", "colour": "black"}, position=2, prices={"EUR": 2890}, stock=6)
    stream.create("commerce_variant_translations", tenant_id=t, product_id=tee, variant_id=small, locale="de",
                  title="Leinen-T-Shirt klein", options={"colour": "weiß"})
    stream.link_category(t, tee, tees)
    stream.link_tag(t, tee, stream.tag(t, "organic", "Organic"))
    stream.link_tag(t, tee, stream.tag(t, "bestseller", "Bestseller"))
    stream.flex(t, "care", "product", tee, {"wash": "cold", "iron": False})
    return {"tenant": t, "tee": tee, "small": small, "tees": tees, "apparel": apparel}


def docs_of(projector: Projector, stream: Stream, root: str) -> dict[str, ProductDocument]:
    return by_locale(run(projector, stream.events), root)


def test_a_product_has_one_document_per_enabled_locale_with_its_own_translation(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    docs = docs_of(projector, stream, catalog["tee"])
    assert sorted(docs) == ["de", "en", "ru"]
    assert (docs["en"].title, docs["en"].resolved_locale) == ("Linen Tee", "en")
    assert (docs["de"].title, docs["de"].resolved_locale) == ("Leinen-T-Shirt", "de")
    assert docs["de"].description == "Leinen-T-Shirt description"
    assert docs["en"].vendor == "Acme" and docs["en"].handle == "linen-tee" and docs["en"].status == "published"


def test_a_locale_without_translation_falls_back_to_the_tenant_default(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    ru = docs_of(projector, stream, catalog["tee"])["ru"]
    assert (ru.locale, ru.resolved_locale, ru.title) == ("ru", "en", "Linen Tee")


def test_a_regional_locale_falls_back_to_its_language_before_the_default(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en", "de", "de-AT"))
    product = stream.product(t, "mug", {"en": "Mug", "de": "Becher"})
    at = docs_of(projector, stream, product)["de-AT"]
    assert (at.resolved_locale, at.title) == ("de", "Becher")


def test_prices_are_ranges_per_currency_and_never_mixed(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    doc = docs_of(projector, stream, catalog["tee"])["en"]
    assert doc.prices == [PriceRange(currency="EUR", min=2490, max=2890), PriceRange(currency="USD", min=2790, max=2990)]
    assert [v.prices for v in doc.variants] == [{"EUR": 2490, "USD": 2790}, {"EUR": 2690, "USD": 2990}, {"EUR": 2890}]


def test_only_default_list_prices_for_a_single_item_count(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    t, tee, small = catalog["tenant"], catalog["tee"], catalog["small"]
    stream.price(t, tee, small, "EUR", 1990, min_quantity=10)
    stream.price(t, tee, small, "EUR", 990, price_list_id=str(catalog["apparel"]))  # any other list
    doc = docs_of(projector, stream, tee)["en"]
    assert doc.prices[0] == PriceRange(currency="EUR", min=2490, max=2890)


def test_stock_sums_available_quantity_and_in_stock_follows_it(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    t, tee, small = catalog["tenant"], catalog["tee"], catalog["small"]
    stream.create("commerce_inventory_levels", tenant_id=t, product_id=tee, variant_id=small, location="berlin",
                  stocked_quantity=5, reserved_quantity=2)
    doc = docs_of(projector, stream, tee)["en"]
    assert doc.total_stock == 4 + 0 + 6 + 3
    assert doc.in_stock is True
    assert [(v.sku, v.available, v.in_stock) for v in doc.variants] == [
        ("TEE-S", 7, True), ("TEE-M", 0, False), ("TEE-L", 6, True)]


def test_a_product_without_available_stock_is_out_of_stock_unless_it_sells_on_backorder(
    projector: Projector, stream: Stream
) -> None:
    t = stream.tenant()
    sold_out = stream.product(t, "sold-out", {"en": "Sold out"})
    stream.variant(t, sold_out, "SO-1", {}, stock=0)
    backorder = stream.product(t, "backorder", {"en": "Backorder"})
    stream.variant(t, backorder, "BO-1", {}, stock=0, inventory_policy="continue")
    emissions = run(projector, stream.events)
    assert by_locale(emissions, sold_out)["en"].in_stock is False
    assert by_locale(emissions, backorder)["en"].in_stock is True


def test_categories_carry_names_and_paths_in_the_documents_locale(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    docs = docs_of(projector, stream, catalog["tee"])
    de, ru = docs["de"], docs["ru"]
    assert [(c.handle, c.name, c.path, c.path_handles) for c in de.categories] == [
        ("t-shirts", "T-Shirts", ["Bekleidung", "T-Shirts"], ["apparel", "t-shirts"])]
    # ru has a name for the parent only: the child falls back to the default locale.
    assert ru.categories[0].path == ["Одежда", "T-shirts"]
    assert de.category_handles == ["apparel", "t-shirts"]
    assert de.category_names == ["Bekleidung", "T-Shirts"]


def test_tags_variant_options_skus_and_flex_are_flattened(
    projector: Projector, stream: Stream, catalog: dict[str, Any]
) -> None:
    docs = docs_of(projector, stream, catalog["tee"])
    en, de = docs["en"], docs["de"]
    assert (en.tags, en.tag_slugs) == (["Bestseller", "Organic"], ["bestseller", "organic"])
    assert en.skus == ["TEE-S", "TEE-M", "TEE-L"]
    assert en.options == {"size": ["S", "M", "L"], "colour": ["white", "black"]}
    # The German variant translation renames its colour and gives it a title.
    assert de.options == {"size": ["S", "M", "L"], "colour": ["weiß", "white", "black"]}
    assert (de.variants[0].title, en.variants[0].title) == ("Leinen-T-Shirt klein", None)
    assert en.flex == {"care": {"wash": "cold", "iron": False}}


def test_a_product_without_any_translation_is_titled_by_its_handle(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en", "de"))
    bare = stream.product(t, "bare-product", {}, status="draft", published_at=None)
    docs = docs_of(projector, stream, bare)
    assert {loc: (d.title, d.resolved_locale, d.status) for loc, d in docs.items()} == {
        "en": ("bare-product", "en", "draft"), "de": ("bare-product", "en", "draft")}


def test_documents_carry_the_newest_lsn_behind_them(projector: Projector, stream: Stream, catalog: dict[str, Any]) -> None:
    emissions = run(projector, stream.events)
    emission = next(e for e in emissions if str(e.root.id) == catalog["tee"])
    assert emission.version == max(e.source.lsn or 0 for e in stream.events)
    assert {d.version for d in emission.documents} == {emission.version}
    assert emission.committed_at is not None
