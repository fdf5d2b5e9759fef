"""How documents follow changes: deletes, status, locales, fan-out, truncates, replays, bad events."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.envelope import ChangeEvent
from pipelines.core import Projector, apply, route
from pipelines.errors import InvalidEvent
from pipelines.state import StateStore

from .builders import Stream
from .docs import by_locale, emitted_ids, only, run


def fresh(stream: Stream) -> None:
    """Forget the events sent so far; the next ones form a new batch."""
    stream.events.clear()


@pytest.fixture
def shop(stream: Stream) -> dict[str, Any]:
    t = stream.tenant(locales=("en", "de"))
    apparel = stream.category(t, "apparel", {"en": "Apparel", "de": "Bekleidung"})
    tees = stream.category(t, "t-shirts", {"en": "T-shirts", "de": "T-Shirts"}, parent=apparel)
    mugs = stream.category(t, "mugs", {"en": "Mugs"})
    tee = stream.product(t, "tee", {"en": "Tee", "de": "T-Shirt"})
    variant = stream.variant(t, tee, "TEE-1", {"size": "M"}, prices={"EUR": 1000}, stock=2)
    stream.link_category(t, tee, tees)
    mug = stream.product(t, "mug", {"en": "Mug"})
    stream.link_category(t, mug, mugs)
    organic = stream.tag(t, "organic", "Organic")
    stream.link_tag(t, tee, organic)
    author = stream.user(t, "Erika Editor")
    post = stream.node(t, "post", {"en": ("Hello", "hello", "Hi")}, author_id=author)
    return {"tenant": t, "apparel": apparel, "tees": tees, "mugs": mugs, "tee": tee, "variant": variant,
            "mug": mug, "organic": organic, "author": author, "post": post}


def test_deleting_a_product_emits_no_documents_for_it(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.delete("commerce_products", shop["tee"])
    assert only(run(projector, stream.events), shop["tee"]) == ()


def test_unpublishing_and_archiving_keep_documents_with_the_new_status(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.update("commerce_products", shop["tee"], status="draft")
    assert {d.status for d in only(run(projector, stream.events), shop["tee"])} == {"draft"}
    fresh(stream)
    stream.update("nodes", shop["post"], status="archived")
    assert {d.status for d in only(run(projector, stream.events), shop["post"])} == {"archived"}


def test_deleting_a_translation_falls_back_to_the_default(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    run(projector, stream.events)
    fresh(stream)
    german = next(k[1] for k, r in stream.rows.items()
                  if k[0] == "commerce_product_translations" and r["locale"] == "de" and r["product_id"] == shop["tee"])
    stream.delete("commerce_product_translations", german)
    de = by_locale(run(projector, stream.events), shop["tee"])["de"]
    assert (de.title, de.resolved_locale) == ("Tee", "en")


def test_enabling_a_locale_adds_documents_for_every_root_of_the_tenant(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.create("tenant_locales", tenant_id=shop["tenant"], locale="ru", position=2)
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"], shop["mug"], shop["post"]}
    assert all(e.locales == ("en", "de", "ru") for e in emissions)


def test_disabling_a_locale_removes_its_documents(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    run(projector, stream.events)
    fresh(stream)
    german = next(k[1] for k, r in stream.rows.items() if k[0] == "tenant_locales" and r["locale"] == "de")
    stream.update("tenant_locales", german, enabled=False)
    assert {e.locales for e in run(projector, stream.events)} == {("en",)}


def test_renaming_a_category_re_emits_products_in_it_and_below_it(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    german = next(k[1] for k, r in stream.rows.items()
                  if k[0] == "commerce_category_translations" and r["category_id"] == shop["apparel"] and r["locale"] == "de")
    stream.update("commerce_category_translations", german, name="Kleidung")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"]}  # in a sub-category; the mug is elsewhere
    de = by_locale(emissions, shop["tee"])["de"]
    assert de.categories[0].path == ["Kleidung", "T-Shirts"] and "Kleidung" in de.category_names


def test_moving_a_category_under_another_changes_the_paths_of_its_products(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.update("commerce_categories", shop["mugs"], parent_id=shop["apparel"])
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["mug"]}
    assert by_locale(emissions, shop["mug"])["en"].category_handles == ["apparel", "mugs"]


def test_renaming_an_author_re_emits_their_content(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.update("users", shop["author"], display_name="Erika Mustermann")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["post"]}
    assert by_locale(emissions, shop["post"])["en"].author_name == "Erika Mustermann"


def test_an_author_change_that_shows_nowhere_re_emits_nothing(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.update("users", shop["author"], email="erika@new.example")
    assert run(projector, stream.events) == []


def test_renaming_a_tag_re_emits_tagged_products(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.update("commerce_tags", shop["organic"], name="Bio")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"]}
    assert by_locale(emissions, shop["tee"])["de"].tags == ["Bio"]


def test_a_variant_moved_to_another_product_re_emits_both(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    for table in ("commerce_prices", "commerce_inventory_levels"):
        for key in [k for k, r in stream.rows.items() if k[0] == table and r["variant_id"] == shop["variant"]]:
            stream.update(table, key[1], product_id=shop["mug"])
    stream.update("commerce_variants", shop["variant"], product_id=shop["mug"])
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"], shop["mug"]}
    assert by_locale(emissions, shop["tee"])["en"].skus == []
    mug = by_locale(emissions, shop["mug"])["en"]
    assert (mug.skus, mug.total_stock, mug.prices[0].min) == (["TEE-1"], 2, 1000)


def test_truncating_a_table_removes_its_rows_and_rebuilds_their_roots(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.truncate("commerce_prices")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"]}
    assert by_locale(emissions, shop["tee"])["en"].prices == []


def test_a_row_older_than_a_truncate_does_not_come_back(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    old_price = next(e for e in stream.events if e.table == "commerce_prices")
    stream.truncate("commerce_prices")
    events = [e for e in stream.events if e is not old_price]
    run(projector, events)
    late = run(projector, [old_price])  # arrives after the truncate from another partition
    assert by_locale(late, shop["tee"])["en"].prices == []


def test_truncating_products_removes_every_product_document(
    projector: Projector, stream: Stream, shop: dict[str, Any]
) -> None:
    run(projector, stream.events)
    fresh(stream)
    stream.truncate("commerce_products")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {shop["tee"], shop["mug"]}
    assert all(e.documents == () for e in emissions)


def test_two_tenants_with_the_same_handles_and_names_never_mix(projector: Projector, stream: Stream) -> None:
    worlds = {}
    for slug, name, amount in (("north", "Shirts", 1000), ("south", "Hemden", 2000)):
        t = stream.tenant(slug=slug, locales=("en",))
        category = stream.category(t, "shirts", {"en": name})
        product = stream.product(t, "tee", {"en": f"{slug} tee"})
        stream.variant(t, product, f"{slug}-1", {"size": "M"}, prices={"EUR": amount}, stock=1)
        stream.link_category(t, product, category)
        stream.link_tag(t, product, stream.tag(t, "organic", f"{slug} organic"))
        worlds[slug] = (t, product, category)
    emissions = run(projector, stream.events)
    north = by_locale(emissions, worlds["north"][1])["en"]
    south = by_locale(emissions, worlds["south"][1])["en"]
    assert (north.title, north.category_names, north.tags, north.prices[0].min) == (
        "north tee", ["Shirts"], ["north organic"], 1000)
    assert (south.title, south.category_names, south.tags, south.prices[0].min) == (
        "south tee", ["Hemden"], ["south organic"], 2000)
    assert str(north.tenant_id) == worlds["north"][0] and str(south.tenant_id) == worlds["south"][0]
    # Renaming north's category re-emits north's product only.
    stream.events.clear()
    translation = next(k[1] for k, r in stream.rows.items()
                       if k[0] == "commerce_category_translations" and r["category_id"] == worlds["north"][2])
    stream.update("commerce_category_translations", translation, name="Tops")
    assert emitted_ids(run(projector, stream.events)) == {worlds["north"][1]}


def test_a_row_pointing_at_another_tenants_category_shows_nothing_of_it(projector: Projector, stream: Stream) -> None:
    mine = stream.tenant(slug="mine", locales=("en",))
    theirs = stream.tenant(slug="theirs", locales=("en",))
    secret = stream.category(theirs, "secret", {"en": "Secret"})
    product = stream.product(mine, "tee", {"en": "Tee"})
    stream.link_category(mine, product, secret)
    stream.link_tag(mine, product, stream.tag(theirs, "hidden", "Hidden"))
    doc = by_locale(run(projector, stream.events), product)["en"]
    assert (doc.categories, doc.category_names, doc.tags) == ([], [], [])


def test_replaying_applied_events_still_returns_their_roots(store: StateStore, stream: Stream, shop: dict[str, Any]) -> None:
    projector = Projector(store)
    first = run(projector, stream.events)
    replay = run(projector, stream.events)
    assert emitted_ids(replay) == emitted_ids(first) == {shop["tee"], shop["mug"], shop["post"]}
    assert {e.root: (e.version, e.documents) for e in replay} == {e.root: (e.version, e.documents) for e in first}
    assert apply(store, stream.events[-1]) == route(stream.events[-1])


def test_a_late_insert_never_resurrects_a_deleted_row(projector: Projector, stream: Stream, shop: dict[str, Any]) -> None:
    insert = next(e for e in stream.events if e.table == "commerce_products" and e.after and e.after["id"] == shop["mug"])
    stream.delete("commerce_products", shop["mug"])
    run(projector, stream.events)
    assert only(run(projector, [insert]), shop["mug"]) == ()


def test_a_snapshot_read_never_overwrites_a_streamed_change(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    product = stream.product(t, "tee", {})
    row = stream.rows[("commerce_products", product)]
    stream.update("commerce_products", product, status="archived")
    # The snapshot read carries a higher LSN (the slot's consistent point) but older data.
    stream.event("commerce_products", "r", None, {**row, "status": "published"}, snapshot=True, lsn=10**9)
    assert by_locale(run(projector, stream.events), product)["en"].status == "archived"


def test_an_event_that_fails_its_contract_is_reported_and_the_batch_goes_on(
    projector: Projector, stream: Stream
) -> None:
    t = stream.tenant(locales=("en",))
    good = stream.product(t, "good", {"en": "Good"})
    bad_row = {**stream.rows[("commerce_products", good)], "id": "not-a-uuid", "status": "sold"}
    bad = stream.event("commerce_products", "c", None, bad_row)
    after_bad = stream.product(t, "after", {"en": "After"})
    emissions = projector.process(stream.events)
    assert [e.event for e in projector.invalid] == [bad]
    assert "commerce_products" in projector.invalid[0].reason and "status" in projector.invalid[0].reason
    assert emitted_ids(emissions) == {good, after_bad}


def test_an_event_without_lsn_is_invalid_and_writes_nothing(store: StateStore, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    event = stream.events[0]
    no_lsn = ChangeEvent.model_validate({**event.model_dump(by_alias=True),
                                         "source": {**event.source.model_dump(by_alias=True), "lsn": None}})
    with pytest.raises(InvalidEvent, match="no source.lsn"):
        apply(store, no_lsn)
    assert store.get(f"tenants:{t}") is None


def test_tables_that_feed_no_document_are_ignored(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    stream.events.clear()
    stream.create("commerce_orders", tenant_id=t, number=1, currency_code="EUR", subtotal=100, total=100)
    stream.create("roles", tenant_id=t, slug="admin", name="Admin", is_system=True, created_at="2026-01-01T00:00:00Z")
    assert run(projector, stream.events) == []
