"""Skipped offsets: the reader against the real broker, the stored offsets against PostgreSQL."""

from __future__ import annotations

import pytest

from connectors.kafka_runtime import KafkaRuntime
from pipelines.faust_app.gaps import Gap, RangeReader, StoredOffsets
from tests.integration.faust.harness import produce, unique


@pytest.mark.kafka
def test_a_skipped_range_is_read_exactly_with_its_keys_and_values(kafka_runtime: KafkaRuntime) -> None:
    topic = unique("gaps-")
    for n in range(10):
        produce(kafka_runtime.bootstrap_servers, topic, f"k{n}".encode(), None if n == 5 else f"v{n}".encode())
    reader = RangeReader(kafka_runtime.bootstrap_servers)
    try:
        assert reader.read_all([Gap(topic, 0, 3, 7)]) == [(3, b"k3", b"v3"), (4, b"k4", b"v4"), (5, b"k5", None),
                                                          (6, b"k6", b"v6")]
        assert reader.read_all([Gap(topic, 0, 0, 1)]) == [(0, b"k0", b"v0")]  # the same reader, another range
        # Two gaps of one partition in one pass: only their records, not the delivered ones between.
        assert reader.read_all([Gap(topic, 0, 1, 2), Gap(topic, 0, 8, 10)]) == [(1, b"k1", b"v1"), (8, b"k8", b"v8"),
                                                                                (9, b"k9", b"v9")]
    finally:
        reader.close()


def test_a_consumers_stored_offsets_only_move_forward_and_stay_its_own(database_url: str) -> None:
    mine, other = StoredOffsets(database_url, "index-a"), StoredOffsets(database_url, "index-b")
    try:
        assert mine.load() == {}
        mine.save({("p.docs.product", 0): 40, ("p.docs.content", 0): 7})
        mine.save({("p.docs.product", 0): 12})  # an older position (a replayed batch) never lowers it
        other.save({("p.docs.product", 0): 3})
        assert mine.load() == {("p.docs.product", 0): 40, ("p.docs.content", 0): 7}
        assert other.load() == {("p.docs.product", 0): 3}
    finally:
        mine.close()
        other.close()
