"""Absorbing a snapshot batch by batch and building its roots at the end (what the
embedded runner does during a snapshot) gives the documents of one big batch, builds
each root once, and still reports the events of a root whose build fails."""

from __future__ import annotations

import sqlite3
from itertools import islice
from pathlib import Path

from pipelines.runtime.embedded import slice_sizes
from pipelines.runtime.projection import CoreProjection
from pipelines.state import InMemoryStateStore, SqliteStateStore

from .builders import Stream


def snapshot_catalogue(stream: Stream, products: int = 6) -> list[str]:
    t = stream.tenant(locales=("en", "de"))
    tees = stream.category(t, "t-shirts", {"en": "T-shirts", "de": "T-Shirts"})
    ids = []
    for n in range(products):
        product = stream.product(t, f"tee-{n}", {"en": f"Tee {n}", "de": f"T-Shirt {n}"})
        stream.variant(t, product, f"TEE-{n}", {"size": "M"}, prices={"EUR": 1000 + n}, stock=n)
        stream.link_category(t, product, tees)
        ids.append(product)
    return ids


def projection() -> CoreProjection:
    store = InMemoryStateStore()
    return CoreProjection(lambda: store, lambda: None)


def test_roots_absorbed_over_many_batches_are_built_once_with_the_documents_of_one_batch(stream: Stream) -> None:
    snapshot_catalogue(stream)
    events = list(stream.events)
    whole, rejected = projection().project(events)
    assert not rejected

    deferred = projection()
    for start in range(0, len(events), 4):
        assert deferred.absorb(events[start:start + 4]) == []
    assert deferred.pending_roots == len(whole)
    emitted = []
    while deferred.pending_roots:
        chunk, rejected = deferred.emit(2)
        assert not rejected and len(chunk) <= 2
        emitted += chunk
    assert [e.root for e in emitted] == [e.root for e in whole]
    assert [e.documents for e in emitted] == [e.documents for e in whole]
    assert [e.version for e in emitted] == [e.version for e in whole]


def test_a_root_that_cannot_be_built_rejects_its_newest_event_even_from_an_earlier_batch(stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    good = stream.product(t, "good", {"en": "Good"})
    bad = stream.product(t, "bad", {"en": "Bad"})
    variant = stream.variant(t, bad, "BAD-1", {"size": "M"})
    # Passes the row contract (a three-letter code) but no document can carry it.
    price = stream.price(t, bad, variant, "XXQ", 100)
    events = list(stream.events)
    deferred = projection()
    assert deferred.absorb(events) == []
    later = stream.create("commerce_product_translations", tenant_id=t, product_id=good, locale="de", title="Gut")
    assert deferred.absorb(stream.events[len(events):]) == []

    emitted, rejected = deferred.emit(10)
    assert [str(e.root.id) for e in emitted] == [good]
    assert len(rejected) == 1
    assert rejected[0].index == -1 and rejected[0].event is not None
    assert rejected[0].event.after is not None and rejected[0].event.after["id"] == price
    assert later["product_id"] == good and deferred.pending_roots == 0


def test_a_reset_forgets_absorbed_roots(stream: Stream, tmp_path: Path) -> None:
    snapshot_catalogue(stream, products=2)
    path = tmp_path / "state.sqlite"
    deferred = CoreProjection(lambda: SqliteStateStore(path), lambda: path.unlink(missing_ok=True))
    deferred.absorb(stream.events)
    assert deferred.pending_roots == 2
    deferred.reset()
    assert deferred.pending_roots == 0 and deferred.emit(10) == ([], [])
    deferred.close()


def _rows_in_file(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("SELECT count(*) FROM rows").fetchone()[0])


def test_a_snapshot_state_held_in_memory_is_saved_when_its_build_starts_one_served_from_its_file_as_it_is_read(
    stream: Stream, tmp_path: Path,
) -> None:
    snapshot_catalogue(stream, products=3)
    for memory_rows, saved_while_reading in ((1_000_000, False), (0, True)):
        path = tmp_path / f"state-{memory_rows}.sqlite"
        deferred = CoreProjection(lambda: SqliteStateStore(path, memory_rows=memory_rows), lambda: None)
        deferred.absorb(stream.events)
        assert deferred.save_ahead(reading=True) is saved_while_reading
        assert (_rows_in_file(path) > 0) is saved_while_reading
        assert deferred.save_ahead(reading=False)  # the build: whatever was absorbed is written
        rows = _rows_in_file(path)
        assert rows == len(stream.events)  # each event is a row of its own here
        deferred.commit(7)
        assert deferred.save_ahead(reading=False) is False  # with a position, commits write the state
        deferred.close()


def test_a_snapshot_build_starts_with_a_small_slice_and_doubles_up_to_emit_roots() -> None:
    """The sinks wait only for the first slice's build (the runner's ``slice_sizes``)."""
    assert list(islice(slice_sizes(2000), 6)) == [250, 500, 1000, 2000, 2000, 2000]
    assert list(islice(slice_sizes(5), 3)) == [1, 2, 4] and list(islice(slice_sizes(1), 2)) == [1, 1]
