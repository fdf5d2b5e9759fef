"""Waiting for something the platform does in the background (a pipeline catching up, a
slot released). The bound is generous: these machines are shared, and a wait returns as
soon as the condition holds, so only a real hang pays for it."""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_TIMEOUT = 60.0


def wait_for(condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT,
             poll: Callable[[], object] | None = None, interval: float = 0.05) -> None:
    """Return once ``condition()`` holds; call ``poll()`` (or sleep ``interval``) between looks."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        if poll is not None:
            poll()
        else:
            time.sleep(interval)
