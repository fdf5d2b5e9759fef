"""The sink port: where finished documents go.

Lifecycle: ``setup()`` once (create what the sink needs), then any number of
``write(batch)`` calls, each followed eventually by ``flush()``; ``close()`` at the end.
``write`` may buffer; ``flush`` returns only when everything written so far is durable
(committed and visible to readers), and it clears the buffer even when it fails, so a
retry starts from the source position, never from a half-kept buffer. The runner
acknowledges a source position only after every sink's ``flush`` returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Protocol, runtime_checkable

from pipelines.model import RootDocuments


class Sink(Protocol):
    name: str

    def setup(self) -> None: ...

    def write(self, batch: Sequence[RootDocuments]) -> None:
        """Accept emissions in source order; a later emission of a root supersedes an earlier one."""

    def flush(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class BulkLoads(Protocol):
    """A sink that can take a bulk load the quick way.

    Between ``begin_bulk()`` and ``end_bulk()`` the caller writes each root at most once, with
    nothing else writing the sink's index versions (a snapshot's roots, built once each at its
    end), and acknowledges none of it before ``end_bulk(completed=True)`` returned. A sink that
    found a version empty at the first flush of the bulk may then add the documents without
    looking for what it holds; where it cannot be sure, it takes its usual way. It may also
    leave the bulk's flushes undurable and unseen until ``end_bulk(completed=True)``, which
    makes them durable (or raises); ``end_bulk(completed=False)`` (the bulk failed) may drop them.
    """

    def begin_bulk(self) -> None: ...

    def end_bulk(self, completed: bool) -> None: ...


def write_and_flush(sinks: Sequence[Sink], batch: Sequence[RootDocuments], executor: Executor | None,
                    flushed: Callable[[Sink, float], None]) -> None:
    """Every sink writes and flushes ``batch``; returns when all are durable.

    With an ``executor`` the sinks run side by side, one task each: their I/O (the
    database's statements, Tantivy's indexing threads and commit) overlaps, and each sink
    is still used by one thread at a time. The first failure is raised once every sink has
    finished. ``flushed(sink, seconds)`` is called after each sink's flush.
    """

    def one(sink: Sink) -> None:
        started = time.perf_counter()
        sink.write(batch)
        sink.flush()
        flushed(sink, time.perf_counter() - started)

    if executor is None:
        for sink in sinks:
            one(sink)
        return
    for emission in batch:
        emission.documents_json()  # made once here, not by two sinks at the same moment
    futures = [executor.submit(one, sink) for sink in sinks]
    errors = [error for future in futures if (error := future.exception()) is not None]  # waits for every sink
    if errors:
        raise errors[0]
