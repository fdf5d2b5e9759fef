"""Skipped offsets: which ranges a partition still owes, and the offsets kept in state."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.faust_app.gaps import Continuity, Gap, next_offset_mark, record_offsets, stored_offset
from pipelines.faust_app.messages import Origin
from pipelines.state.memory import InMemoryStateStore


@dataclass(frozen=True)
class Rec:
    origin: Origin


def recs(*items: tuple[str, int]) -> list[Rec]:
    return [Rec(Origin(topic, 0, offset)) for topic, offset in items]


def test_a_hole_between_delivered_records_is_reported_per_partition() -> None:
    batch = recs(("a", 5), ("b", 0), ("a", 6), ("a", 9), ("b", 1), ("a", 10))
    assert Continuity().gaps(batch) == [Gap("a", 0, 7, 9)]


def test_a_hole_before_the_first_record_is_found_from_the_stored_offset() -> None:
    # Faust committed past offset 159, which no process ever applied: the state still owes it.
    assert Continuity({("a", 0): 159}.get).gaps(recs(("a", 160), ("a", 161))) == [Gap("a", 0, 159, 160)]


def test_records_already_applied_are_a_replay_not_a_hole() -> None:
    assert Continuity({("a", 0): 159}.get).gaps(recs(("a", 150), ("a", 151), ("a", 152))) == []


def test_without_a_known_offset_the_first_record_starts_the_partition() -> None:
    assert Continuity().gaps(recs(("a", 40), ("a", 41))) == []


def test_what_was_handled_moves_the_expected_offset_for_the_next_batch() -> None:
    continuity = Continuity()
    assert continuity.advance(recs(("a", 0), ("a", 1))) == {("a", 0): 2}
    assert continuity.gaps(recs(("a", 4))) == [Gap("a", 0, 2, 4)]
    assert continuity.advance(recs(("a", 1))) == {}  # a replayed record never moves it back


def test_the_state_keeps_the_next_offset_and_never_lowers_it() -> None:
    store = InMemoryStateStore()
    start = stored_offset(store)
    assert start(("a", 0)) == 0  # a new state starts at the beginning
    record_offsets(store, {("a", 0): 8})
    record_offsets(store, {("a", 0): 3})
    assert store.mark(next_offset_mark("a", 0)) == 8
    assert start(("a", 0)) == 8
