"""Garbage-collector settings for a process that only serves an API.

A request allocates thousands of short-lived objects. With Python's defaults (a young
collection every 700 net allocations, older generations every 10 of those) several
young collections ran per request and the older generations were walked often, over a
heap that is mostly the framework's long-lived objects: ~5% of a search's CPU and more
of a write's (bench/search_latency.py, bench/write_api_throughput.py).

Only a server's own process may call this: it freezes every object alive at the call
for the rest of the process, so a test or a tool that builds an app in its own process
must keep Python's defaults (a frozen cycle is never collected, and rarer collections
delay the finalizers of whatever the caller leaks).
"""

from __future__ import annotations

import gc

# Net container allocations between young collections (Python's default is 700).
GEN0_THRESHOLD = 20_000


def tune_gc_for_serving(older: int | None = None, oldest: int | None = None) -> None:
    """Once everything is imported and built: collect, move the survivors out of the
    collector's reach (``gc.freeze``) and collect young objects less often. ``older`` and
    ``oldest`` replace the thresholds of the two older generations when given."""
    gc.collect()
    gc.freeze()
    _, current_older, current_oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, current_older if older is None else older,
                     current_oldest if oldest is None else oldest)
