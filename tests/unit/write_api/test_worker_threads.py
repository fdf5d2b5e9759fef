"""WorkerThreads: the hot routes' one hop from the event loop to a blocking thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from contracts.request_context import REQUEST_ID
from write_api.errors import Conflict
from write_api.workers import WorkerThreads


def test_work_runs_off_the_loop_thread_in_the_requests_context_and_returns_its_result() -> None:
    workers = WorkerThreads(2)

    async def request() -> tuple[str | None, int]:
        REQUEST_ID.set("trace-7")
        return await workers.run(lambda: (REQUEST_ID.get(), threading.get_ident()))

    try:
        seen_id, thread = asyncio.run(request())
    finally:
        workers.stop()
    assert seen_id == "trace-7"
    assert thread != threading.get_ident()


def test_an_error_in_the_work_reaches_the_awaiting_request_as_itself() -> None:
    workers = WorkerThreads(1)

    def refuse() -> None:
        raise Conflict("the SKU is taken")

    try:
        with pytest.raises(Conflict, match="the SKU is taken"):
            asyncio.run(workers.run(refuse))
    finally:
        workers.stop()


def test_concurrent_requests_each_get_their_own_result_and_stop_ends_every_thread() -> None:
    workers = WorkerThreads(3)

    def square(n: int) -> tuple[int, int]:
        return n * n, threading.get_ident()

    async def many() -> list[tuple[int, int]]:
        return await asyncio.gather(*(workers.run(lambda n=n: square(n)) for n in range(50)))  # type: ignore[misc]

    results = asyncio.run(many())
    assert [r for r, _ in results] == [n * n for n in range(50)]
    used = {thread for _, thread in results}
    assert 1 <= len(used) <= 3
    workers.stop()
    assert not used & {t.ident for t in threading.enumerate()}
