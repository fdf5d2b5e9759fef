"""A rebuild whose slot PostgreSQL invalidates while the snapshot's roots are built stops
at the next slice with a clear error, instead of building for an hour and then failing
to stream (what a 1M rebuild did when its sinks' writes passed max_slot_wal_keep_size)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bench.generator import generate
from connectors.embedded import SlotInvalidated
from migrations import runner
from pipelines.model import RootDocuments
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.postgres import ensure_database
from tests.integration.slotlimit import push_wal_past_the_slot, slot_status, small_slot_server


class WalHeavySink:
    """A sink on the same server whose first write pushes the slot past its WAL limit."""

    name = "wal-heavy"

    def __init__(self, url: str) -> None:
        self.url = url
        self.roots = 0

    def setup(self) -> None:
        pass

    def write(self, batch: Sequence[RootDocuments]) -> None:
        if not self.roots:
            push_wal_past_the_slot(self.url)
        self.roots += len(batch)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


# About 7,500 rows: more than a flush (max_batch_events) is absorbed before the snapshot ends,
# so its end builds the absorbed roots in slices.
PRODUCTS = 300


@pytest.fixture(scope="module")
def small_database_url() -> Iterator[str]:
    with small_slot_server(55992) as info:
        ensure_database(info.url("postgres"), "shop")
        url = info.url("shop")
        runner.upgrade(url)
        generate(url, PRODUCTS, seed=7)
        yield url


def test_a_slot_invalidated_while_the_snapshot_is_built_stops_the_build_at_the_next_slice(
    small_database_url: str, tmp_path: Path
) -> None:
    sink = WalHeavySink(small_database_url)
    options = PipelineOptions(database_url=small_database_url, state_dir=tmp_path / "pipeline", emit_roots=1,
                              slot_watch_interval=0.0)
    pipeline = EmbeddedPipeline(options, extra_sinks=[sink])
    with pytest.raises(SlotInvalidated, match="while its snapshot was read and built"):
        pipeline.start()
    pipeline.stop()
    # One root a slice: the slice written when the slot was lost, and the one built beside it.
    assert 1 <= sink.roots <= 2
    assert slot_status(small_database_url, options.slot_name)[0] == "lost"
