"""An initial snapshot's reads of product tables are applied a run at a time (one table, one
LSN: ``apply_reads``). The state, the marks, the roots reached (with their events) and the
events refused are exactly those of applying each event alone, whatever state holds already."""

from __future__ import annotations

from typing import Any

from contracts.envelope import ChangeEvent
from pipelines.core import Projector, apply
from pipelines.core.apply import read_run_key
from pipelines.core.projector import Touched
from pipelines.errors import InvalidEvent
from pipelines.model import RootKey
from pipelines.state import InMemoryStateStore

from .builders import Stream


def catalogue(stream: Stream) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for slug in ("north", "south"):
        t = stream.tenant(slug, locales=("en", "de"))
        tees = stream.category(t, f"{slug}-tees", {"en": "Tees", "de": "T-Shirts"})
        sale = stream.tag(t, "sale", "Sale")
        for n in range(4):
            product = stream.product(t, f"{slug}-tee-{n}", {"en": f"Tee {n}", "de": f"T-Shirt {n}"})
            for size in ("S", "M"):
                stream.variant(t, product, f"{slug}-{n}-{size}", {"size": size}, prices={"EUR": 1000 + n, "USD": 1100},
                               stock=n)
            stream.link_category(t, product, tees)
            stream.link_tag(t, product, sale)
            made.setdefault(slug, []).append(product)
        made[f"{slug}-tenant"] = t
    return made


def snapshot(stream: Stream, lsn: int, rows: dict[tuple[str, str], dict[str, Any]] | None = None) -> list[ChangeEvent]:
    """Every row, table by table, read at ``lsn`` (a snapshot's consistent point)."""
    rows = stream.rows if rows is None else rows
    tables = list(dict.fromkeys(table for table, _ in rows))
    return [stream.event(table, "r", None, dict(row), snapshot=True, lsn=lsn)
            for wanted in tables for (table, _), row in rows.items() if table == wanted]


def one_by_one(store: InMemoryStateStore, events: list[ChangeEvent]) -> tuple[dict[RootKey, list[ChangeEvent]], list[tuple[ChangeEvent, str]]]:
    reached: dict[RootKey, list[ChangeEvent]] = {}
    refused = []
    for event in events:
        try:
            roots = apply(store, event)
        except InvalidEvent as exc:
            refused.append((exc.event, exc.reason))
            continue
        for root in sorted(roots):
            reached.setdefault(root, []).append(event)
    return reached, refused


def in_runs(store: InMemoryStateStore, events: list[ChangeEvent]) -> tuple[dict[RootKey, list[ChangeEvent]], list[tuple[ChangeEvent, str]]]:
    projector = Projector(store)
    touched: Touched = {}
    projector.apply_batch(events, touched)
    return ({root: touch.events for root, touch in touched.items()},
            [(bad.event, bad.reason) for bad in projector.invalid])


def state_of(store: InMemoryStateStore) -> tuple[dict[str, Any], dict[str, int], dict[str, list[str]]]:
    rows = {key: store.get(key) for key in store.keys()}
    groups = {group for stored in rows.values() if stored is not None for group in stored.groups}
    return rows, store.marks(), {group: [key for key, _ in store.members(group)] for group in sorted(groups)}


def both_ways(before: list[ChangeEvent], events: list[ChangeEvent]) -> tuple[InMemoryStateStore, dict[RootKey, list[ChangeEvent]]]:
    """Apply ``events`` in runs and one by one, each on a store that applied ``before`` one by
    one; assert the two agree and return the store and the roots of the runs."""
    ran, alone = InMemoryStateStore(), InMemoryStateStore()
    for store in (ran, alone):
        one_by_one(store, before)
    reached, refused = in_runs(ran, events)
    expected_reached, expected_refused = one_by_one(alone, events)
    assert state_of(ran) == state_of(alone)
    assert {root: [id(e) for e in touches] for root, touches in reached.items()} == \
        {root: [id(e) for e in touches] for root, touches in expected_reached.items()}
    assert [(id(e), reason) for e, reason in refused] == [(id(e), reason) for e, reason in expected_refused]
    return ran, reached


def test_a_fresh_snapshot_in_runs_equals_each_read_applied_alone_and_bad_rows_are_refused_alike(stream: Stream) -> None:
    made = catalogue(stream)
    stream.events.clear()
    reads = snapshot(stream, lsn=5_000)
    assert all(read_run_key(e) is not None for e in reads if e.table.startswith("commerce_product"))
    # Two rows that fail their contracts, in the middle of their tables' runs.
    bad_price = next(i for i, e in enumerate(reads) if e.table == "commerce_prices") + 3
    bad_variant = next(i for i, e in enumerate(reads) if e.table == "commerce_variants") + 1
    for index, column, value in ((bad_price, "amount", "lots"), (bad_variant, "position", "first")):
        event = reads[index]
        assert event.after is not None
        reads[index] = stream.event(event.table, "r", None, {**event.after, column: value}, snapshot=True, lsn=5_000)

    store, reached = both_ways([], reads)
    assert len(reached) == 8 and {str(r.id) for r in reached} == set(made["north"]) | set(made["south"])
    assert store.mark(f"rootv:product:{made['north-tenant']}:{made['north'][0]}") == 5_000


def test_reads_over_newer_and_moved_rows_keep_the_newer_facts_and_reach_the_old_product(stream: Stream) -> None:
    made = catalogue(stream)
    first = snapshot(stream, lsn=5_000)
    # Streamed after the first snapshot: a newer price the second snapshot's read is older than.
    price = next(row for (table, _), row in stream.rows.items() if table == "commerce_prices")
    stream.update("commerce_prices", price["id"], amount=4242)
    streamed = [stream.events[-1]]
    # The second snapshot (after the slot was lost) sees a variant moved to another product.
    variant = next(row for (table, _), row in stream.rows.items()
                   if table == "commerce_variants" and row["product_id"] == made["north"][0])
    moved = {**stream.rows, ("commerce_variants", variant["id"]): {**variant, "product_id": made["north"][1]}}
    second = snapshot(stream, lsn=9_000, rows=moved)

    store, reached = both_ways(first + streamed, second)
    stored_price = store.get(f"commerce_prices:{price['id']}")
    assert stored_price is not None and stored_price.row is not None and stored_price.row["amount"] == 4242
    stored_variant = store.get(f"commerce_variants:{variant['id']}")
    assert stored_variant is not None and stored_variant.row is not None
    assert stored_variant.row["product_id"] == made["north"][1]
    old = next(root for root in reached if str(root.id) == made["north"][0])
    assert any(e.after is not None and e.after["id"] == variant["id"] for e in reached[old])


def test_reads_older_than_a_truncate_store_nothing_but_still_reach_their_products(stream: Stream) -> None:
    catalogue(stream)
    rows = dict(stream.rows)
    stream.truncate("commerce_prices")
    truncated = [stream.events[-1]]
    reads = [e for e in snapshot(stream, lsn=100, rows=rows) if e.table == "commerce_prices"]

    store, reached = both_ways(truncated, reads)
    assert reached and not any(key.startswith("commerce_prices:") for key in store.keys())
