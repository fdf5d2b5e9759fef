"""Incremental-snapshot reads (re-snapshot while streaming) repair state and never win over later changes.

An incremental read is the row as of its place in the stream (the window's close
marker): it must replace what state holds for the key, lose to a change streamed after
it, and keep the result independent of arrival order and duplicates.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.envelope import ChangeEvent
from pipelines.core import Projector
from pipelines.core.apply import event_version
from pipelines.model import RootKey
from pipelines.state import InMemoryStateStore

from .builders import Stream


def documents(batches: list[list[ChangeEvent]]) -> dict[RootKey, tuple[Any, ...]]:
    projector = Projector(InMemoryStateStore())
    last: dict[RootKey, tuple[Any, ...]] = {}
    for batch in batches:
        for emission in projector.process(batch):
            last[emission.root] = emission.documents
        assert projector.invalid == []
    return {root: docs for root, docs in last.items() if docs}


def shop() -> tuple[Stream, str, str, str]:
    s = Stream()
    t = s.tenant(locales=("en", "de"))
    tee = s.product(t, "tee", {"en": "Tee", "de": "T-Shirt"})
    small = s.variant(t, tee, "TEE-S", {"size": "S"}, prices={"EUR": 1000}, stock=3)
    price = next(k[1] for k, r in s.rows.items() if k[0] == "commerce_prices" and r["variant_id"] == small)
    return s, t, tee, price


def price_of(docs: dict[RootKey, tuple[Any, ...]]) -> int:
    (product,) = docs.values()
    return int(product[0].prices[0].min)


def test_an_incremental_read_ranks_as_a_streamed_change_at_its_close_marker_not_as_an_initial_read() -> None:
    s, _, _, price = shop()
    read = s.incremental_read("commerce_prices", price)
    marker = s.lsn
    initial = s.event("commerce_prices", "r", None, dict(s.rows[("commerce_prices", price)]), snapshot=True)
    assert read.source.lsn is None and read.source.sequence == f'["{marker}","{marker}"]'
    assert event_version(read) == (1, marker)
    assert event_version(initial) == (0, initial.source.lsn)


def test_an_incremental_read_without_a_position_is_refused() -> None:
    s, _, _, price = shop()
    read = s.incremental_read("commerce_prices", price)
    broken = read.model_copy(update={"source": read.source.model_copy(update={"sequence": None})})
    projector = Projector(InMemoryStateStore())
    assert list(projector.process([broken])) == [] and len(projector.invalid) == 1


def test_an_incremental_read_repairs_a_row_whose_change_the_state_never_saw() -> None:
    s, _, _, price = shop()
    s.update("commerce_prices", price, amount=950)
    lost = s.events.pop()  # the pipeline never saw this update
    clean = documents([[*s.events, lost]])
    s.incremental_read("commerce_prices", price)
    assert price_of(documents([s.events])) == 950 == price_of(clean)


def test_an_incremental_read_replaces_a_wrong_row_written_before_it() -> None:
    s, _, _, price = shop()
    row = s.rows[("commerce_prices", price)]
    s.event("commerce_prices", "u", dict(row), {**row, "amount": 1})  # corrupt: never happened in the source
    s.incremental_read("commerce_prices", price)
    assert price_of(documents([s.events])) == 1000


def test_a_change_streamed_after_the_read_wins_even_when_it_arrives_first() -> None:
    s, _, _, price = shop()
    read = s.incremental_read("commerce_prices", price)
    s.update("commerce_prices", price, amount=800)
    update = s.events.pop()
    history = s.events[:-1]  # without the read: it is delivered after the update below
    assert price_of(documents([[*history, update, read]])) == 800
    assert price_of(documents([[*history, update], [read, read]])) == 800


def resnapshot_scenario() -> tuple[list[ChangeEvent], list[ChangeEvent]]:
    """(events with incremental reads of every live row mid-stream, the same stream without them)."""
    s, t, tee, price = shop()
    mug = s.product(t, "mug", {"en": "Mug"})
    s.variant(t, mug, "MUG-1", {"size": "350 ml"}, prices={"EUR": 900}, stock=10)
    s.update("commerce_prices", price, amount=990)
    without: list[ChangeEvent] = list(s.events)
    for table, row_id in list(s.rows):
        s.incremental_read(table, row_id)
    s.update("commerce_prices", price, amount=970)
    s.update("commerce_product_translations",
             next(k[1] for k, r in s.rows.items() if k[0] == "commerce_product_translations"
                  and r["product_id"] == tee and r["locale"] == "de"), title="Shirt")
    s.delete("commerce_products", mug)
    without.extend(s.events[-3:])
    return s.events, without


WITH_READS, WITHOUT_READS = resnapshot_scenario()
IN_ORDER = documents([WITH_READS])


def test_reads_of_unchanged_rows_leave_the_documents_as_the_stream_alone_builds_them() -> None:
    assert IN_ORDER == documents([WITHOUT_READS])
    (tee,) = IN_ORDER.values()
    assert {d.locale: d.title for d in tee} == {"en": "Tee", "de": "Shirt"} and tee[0].prices[0].min == 970


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(len(WITH_READS))),
    duplicates=st.lists(st.tuples(st.integers(0, len(WITH_READS) - 1), st.integers(0, len(WITH_READS))),
                        max_size=20),
    batch_size=st.integers(1, len(WITH_READS)),
)
def test_incremental_reads_shuffled_duplicated_and_rebatched_give_the_same_documents(
    order: list[int], duplicates: list[tuple[int, int]], batch_size: int
) -> None:
    events = [WITH_READS[i] for i in order]
    for event_index, position in duplicates:
        events.insert(position, WITH_READS[event_index])
    batches = [events[i:i + batch_size] for i in range(0, len(events), batch_size)]
    assert documents(batches) == IN_ORDER
