"""Pausing Python's cyclic garbage collector while a batch of change events is built.

Decoding a large transaction allocates millions of small containers (every event's
value and source dicts, its record) that all stay alive until the transaction is
handed to the consumer. Each time that live set grows by a quarter, CPython runs a full
collection over everything alive, so building a 200 000-row transaction spent about
40 % of its CPU in collections that never found garbage: these objects hold no
reference cycles and are freed by reference counting. The connector therefore pauses
the collector while it decodes and turns it back on before calling the consumer, so
consumer code always runs with the collector as its owner configured it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; re-enable it only if it was enabled,
    so a process that turned it off keeps it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
