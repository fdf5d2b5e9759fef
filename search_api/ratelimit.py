"""A token bucket per key (in process): ``rate`` requests per second, bursts of ``burst``.

Each API replica limits on its own; with N replicas a key gets at most N times the
rate, which is the usual trade for not adding a shared store to the hot path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from search_api.errors import RateLimited


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, bucket: str) -> None:
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.get(bucket, (self._burst, now))
            tokens = min(self._burst, tokens + (now - stamp) * self._rate)
            if tokens < 1:
                self._buckets[bucket] = (tokens, now)
                raise RateLimited("too many requests for this key", retry_after=(1 - tokens) / self._rate)
            if len(self._buckets) > 100_000:
                self._buckets.clear()  # bounded memory; a flood of distinct buckets resets everyone
            self._buckets[bucket] = (tokens - 1, now)
