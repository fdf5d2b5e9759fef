"""The final documents do not depend on the order, duplication or batching of events.

Real streams only guarantee order inside one partition, and replays repeat events, so
the test shuffles *everything* (even changes of one row) and duplicates some events:
versions alone must decide.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.envelope import ChangeEvent
from pipelines.core import Projector
from pipelines.model import RootKey
from pipelines.state import InMemoryStateStore

from .builders import Stream


def scenario() -> list[ChangeEvent]:
    """A small shop living through renames, moves, deletes and a new locale."""
    s = Stream()
    t = s.tenant(locales=("en", "de"))
    apparel = s.category(t, "apparel", {"en": "Apparel", "de": "Bekleidung"})
    tees = s.category(t, "t-shirts", {"en": "T-shirts"}, parent=apparel)
    home = s.category(t, "home", {"en": "Home", "de": "Zuhause"})
    tee = s.product(t, "tee", {"en": "Tee", "de": "T-Shirt"})
    small = s.variant(t, tee, "TEE-S", {"size": "S"}, prices={"EUR": 1000, "USD": 1200}, stock=3)
    s.variant(t, tee, "TEE-M", {"size": "M"}, position=1, prices={"EUR": 1100}, stock=0)
    link = s.link_category(t, tee, tees)
    organic = s.tag(t, "organic", "Organic")
    s.link_tag(t, tee, organic)
    mug = s.product(t, "mug", {"en": "Mug"})
    s.variant(t, mug, "MUG-1", {"size": "350 ml"}, prices={"EUR": 900}, stock=10)
    s.link_category(t, mug, home)
    s.flex(t, "care", "product", mug, {"dishwasher": True})
    gone = s.product(t, "gone", {"en": "Gone"})
    author = s.user(t, "Erika Editor")
    post = s.node(t, "post", {"en": ("Hello", "hello", "# Hello\n\nWorld")}, author_id=author)
    comment = s.reply(t, post)
    s.create("node_bodies", tenant_id=t, node_id=comment, locale="en", body="Nice")
    s.reply(t, post)
    # Changes after the initial load.
    s.update("commerce_category_translations", _id(s, "commerce_category_translations", category_id=apparel,
                                                     locale="de"), name="Kleidung")
    s.update("commerce_categories", home, parent_id=apparel)
    s.update("commerce_product_categories", link, category_id=home)
    s.update("commerce_tags", organic, name="Bio")
    s.update("commerce_prices", _id(s, "commerce_prices", variant_id=small, currency_code="EUR"), amount=950)
    s.update("commerce_products", tee, status="archived")
    s.delete("commerce_products", gone)
    s.update("users", author, display_name="Erika Mustermann")
    s.delete("nodes", comment)
    s.create("tenant_locales", tenant_id=t, locale="ru", position=2)
    s.update("commerce_products", tee, status="published")
    return s.events


def _id(s: Stream, table: str, **match: Any) -> str:
    return next(key[1] for key, row in s.rows.items()
                if key[0] == table and all(row[k] == v for k, v in match.items()))


EVENTS = scenario()


def final_documents(batches: list[list[ChangeEvent]]) -> dict[RootKey, tuple[int, tuple[Any, ...]]]:
    """The last emission of every root that has documents (version and documents)."""
    projector = Projector(InMemoryStateStore())
    last: dict[RootKey, tuple[int, tuple[Any, ...]]] = {}
    for batch in batches:
        for emission in projector.process(batch):
            last[emission.root] = (emission.version, emission.documents)
        assert projector.invalid == []
    return {root: value for root, value in last.items() if value[1]}


IN_ORDER = final_documents([EVENTS])


def test_the_clean_run_has_the_expected_final_documents() -> None:
    by_handle = {docs[0].handle if docs[0].doc_type == "product" else docs[0].slug: docs
                 for _, docs in IN_ORDER.values()}
    assert sorted(by_handle) == ["hello", "mug", "tee"]
    tee = {d.locale: d for d in by_handle["tee"]}
    assert tee["de"].category_handles == ["apparel", "home"] and tee["de"].categories[0].path == ["Kleidung", "Zuhause"]
    assert (tee["ru"].tags, tee["en"].prices[0].min, tee["en"].status) == (["Bio"], 950, "published")
    post = {d.locale: d for d in by_handle["hello"]}
    assert (post["ru"].author_name, post["ru"].reply_count) == ("Erika Mustermann", 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(len(EVENTS))),
    duplicates=st.lists(st.tuples(st.integers(0, len(EVENTS) - 1), st.integers(0, len(EVENTS))), max_size=30),
    batch_size=st.integers(1, len(EVENTS)),
)
def test_shuffled_duplicated_and_rebatched_events_give_the_same_final_documents(
    order: list[int], duplicates: list[tuple[int, int]], batch_size: int
) -> None:
    events = [EVENTS[i] for i in order]
    for event_index, position in duplicates:
        events.insert(position, EVENTS[event_index])
    batches = [events[i:i + batch_size] for i in range(0, len(events), batch_size)]
    assert final_documents(batches) == IN_ORDER
