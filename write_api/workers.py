"""Worker threads for the blocking work of hot ``async`` routes.

FastAPI runs a sync endpoint (and each sync dependency) through anyio's thread pool: a
capacity limiter, a cancel scope and a queue hand-off per call, about twice the CPU of a
plain executor hop, paid once or twice per request. The hot routes are ``async`` and
send their blocking work here instead, once per request.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")


class WorkerThreads:
    """A thread pool started and stopped with the app (``start``/``stop`` in its lifespan);
    started on first use when the app runs without a lifespan."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._size, thread_name_prefix="write-api")

    def stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def run(self, work: Callable[[], R]) -> R:
        """``work()`` in a worker thread, in the caller's context (its request id, for logs
        and outbox rows), as anyio's hop would."""
        self.start()
        assert self._executor is not None
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._executor, context.run, work)
