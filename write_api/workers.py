"""Worker threads for the blocking work of hot ``async`` routes.

FastAPI runs a sync endpoint (and each sync dependency) through anyio's thread pool: a
capacity limiter, a cancel scope and a queue hand-off per call, paid once or twice per
request. The hot routes are ``async`` and send their blocking work here instead, once
per request. Written here rather than with ``concurrent.futures.ThreadPoolExecutor``
(``loop.run_in_executor``): its work items, thread-count bookkeeping and chained futures
cost about three times the CPU of this hand-off (a C ``SimpleQueue`` to the threads, one
``call_soon_threadsafe`` back), measured at 45-50 against 15-20 µs per hop under uvloop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
log = logging.getLogger(__name__)
_Job = Callable[[], None] | None  # None: the thread's signal to stop


class WorkerThreads:
    """``size`` threads started and stopped with the app (``start``/``stop`` in its
    lifespan); started on first use when the app runs without a lifespan."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if not self._threads:
            self._threads = [threading.Thread(target=self._serve, name=f"write-api-{n}", daemon=True)
                             for n in range(self._size)]
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        """Let the threads finish the work queued so far, then end them."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()

    async def run(self, work: Callable[[], R]) -> R:
        """``work()`` in a worker thread, in the caller's context (its request id, for logs
        and outbox rows), as anyio's hop would; its result or its exception comes back."""
        self.start()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        context = contextvars.copy_context()

        def job() -> None:
            try:
                result = context.run(work)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting request, which raises it
                loop.call_soon_threadsafe(_settle, done, None, error)
            else:
                loop.call_soon_threadsafe(_settle, done, result, None)

        self._jobs.put(job)
        return await done

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except RuntimeError:  # the loop closed before the result could be handed back
                log.warning("a write finished after its event loop closed")


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.cancelled():  # the request went away; the work itself has run to its end
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
