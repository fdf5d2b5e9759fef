"""Where a search runs: on the event loop when it needs no database round trip, on a worker
thread otherwise, so nothing that can block (a database read, a ``min_version`` wait) ever
holds up the requests behind it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from contracts.consistency import encode_token
from search_api.app import LiveVersions, on_event_loop
from search_api.backends.tantivy import TantivyBackend
from search_api.documents import DocumentStore
from tests.integration.search_api.conftest import ClientFactory, World

P = "/v1/products/search"


@pytest.fixture
def where(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[bool]]:
    """Per traced call, whether it ran on the event loop."""
    seen: dict[str, list[bool]] = {"search": [], "live_version": []}

    def traced(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen[name].append(on_event_loop())
            return original(*args, **kwargs)
        return call

    monkeypatch.setattr(TantivyBackend, "search", traced("search", TantivyBackend.search))
    monkeypatch.setattr(DocumentStore, "live_version", traced("live_version", DocumentStore.live_version))
    return seen


def test_a_search_needing_no_database_runs_on_the_event_loop_and_every_database_read_on_a_thread(
        make_client: ClientFactory, world: World, where: dict[str, list[bool]]) -> None:
    client = make_client(pipeline_name="loop")
    client.headers["Authorization"] = f"Bearer {world.keys['a_public']}"
    world.catalog.set_applied_lsn(5000, "loop")
    assert client.get(P, params={"q": "shirt"}).status_code == 200  # the live version is read first, on a thread
    assert client.get(P, params={"q": "mug", "facets": "category"}).status_code == 200
    assert client.get("/v1/products/facets", params={"facets": "tag"}).status_code == 200
    both = {"queries": [{"type": "products", "params": {"q": "mug"}}, {"type": "content", "params": {"q": "hoodie"}}]}
    assert client.post("/v1/multi-search", json=both).status_code == 200  # content's version is read first
    assert client.post("/v1/multi-search", json=both).status_code == 200
    assert where["search"] == [False, True, True, False, False, True, True]
    fresh = client.get(P, params={"q": "mug", "min_version": encode_token(4000)})  # may wait: a thread
    assert fresh.status_code == 200 and fresh.json()["stale"] is False
    assert where["search"][-1] is False
    time.sleep(1.1)  # the live version is due to be read again: that search goes to a thread
    assert client.get(P, params={"q": "shirt"}).status_code == 200
    assert where["search"][-1] is False
    assert where["live_version"] and not any(where["live_version"])


def test_with_answer_on_event_loop_off_every_search_runs_on_a_thread(
        make_client: ClientFactory, world: World, where: dict[str, list[bool]]) -> None:
    client = make_client(answer_on_event_loop=False)
    client.headers["Authorization"] = f"Bearer {world.keys['a_public']}"
    for q in ("shirt", "mug", "shirt"):
        assert client.get(P, params={"q": q}).status_code == 200
    assert where["search"] == [False, False, False]


def test_a_search_waiting_for_min_version_does_not_hold_up_other_searches(
        make_client: ClientFactory, world: World) -> None:
    client = make_client(pipeline_name="slow", wait_bound_seconds=3.0)
    headers = {"Authorization": f"Bearer {world.keys['a_public']}"}
    world.catalog.set_applied_lsn(100, "slow")
    assert client.get(P, params={"q": "mug"}, headers=headers).status_code == 200
    waited: list[Any] = []
    waiting = threading.Thread(target=lambda: waited.append(
        client.get(P, params={"q": "mug", "min_version": encode_token(9000)}, headers=headers)))
    waiting.start()
    time.sleep(0.2)  # the waiting request is in its wait
    started = time.monotonic()
    for q in ("shirt", "hoodie", "mug"):
        assert client.get(P, params={"q": q}, headers=headers).status_code == 200
    assert time.monotonic() - started < 1.0
    assert waiting.is_alive()
    world.catalog.set_applied_lsn(9000, "slow")
    waiting.join(5)
    assert waited and waited[0].status_code == 200 and waited[0].json()["stale"] is False


def test_the_live_version_is_read_once_per_ttl_and_known_only_while_fresh() -> None:
    now = [100.0]
    reads: list[str] = []

    def load(doc_type: str) -> int:
        reads.append(doc_type)
        return 3

    live = LiveVersions(load, ttl=1.0, clock=lambda: now[0])
    assert not live.known("product")
    assert live("product") == 3 and live("product") == 3 and reads == ["product"]
    assert live.known("product") and not live.known("content")
    now[0] += 1.5
    assert not live.known("product")

    async def on_the_loop() -> int:
        return live("product")  # expired, but never read on the event loop: the last version is served

    assert asyncio.run(on_the_loop()) == 3 and reads == ["product"]
    assert live("product") == 3 and reads == ["product", "product"] and live.known("product")
