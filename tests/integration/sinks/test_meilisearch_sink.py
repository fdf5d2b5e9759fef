"""The Meilisearch sink against a real server, only when RUSTOK_MEILISEARCH_URL names one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from contracts.ids import new_id
from pipelines.sinks.meilisearch_sink import MeilisearchSink

from .factory import emit, product_emission

URL = os.environ.get("RUSTOK_MEILISEARCH_URL")
pytestmark = pytest.mark.skipif(not URL, reason="no Meilisearch server: set RUSTOK_MEILISEARCH_URL to run")


@pytest.fixture
def sink() -> Iterator[MeilisearchSink]:
    assert URL
    sink = MeilisearchSink(URL, os.environ.get("RUSTOK_MEILISEARCH_KEY"), doc_types=("product",),
                           prefix=f"test{new_id().hex[:8]}")
    sink.setup()
    yield sink
    sink._client.delete_index(sink.index_uid("product"))
    sink.close()


def _search(sink: MeilisearchSink, tenant: object) -> list[dict[str, object]]:
    index = sink._client.index(sink.index_uid("product"))
    return list(index.search("", {"filter": f'tenant_id = "{tenant}"', "limit": 100})["hits"])


def test_versions_are_guarded_tenants_kept_apart_and_empty_emissions_delete(sink: MeilisearchSink) -> None:
    t1, t2, pid = new_id(), new_id(), new_id()
    sink.write([product_emission(t1, pid, 20, title="New"), product_emission(t2, pid, 1, title="Other")])
    sink.flush()
    sink.write([product_emission(t1, pid, 10, title="Old")])
    sink.flush()
    assert {h["title"] for h in _search(sink, t1)} == {"New"}
    assert len(_search(sink, t2)) == 3
    sink.write([emit(t1, pid, 21, doc_type="product")])
    sink.flush()
    assert _search(sink, t1) == [] and len(_search(sink, t2)) == 3
