"""Errors of ``rustok.replay``.

Tree::

    ReplayError                 root of the replay's errors
    ├── ReplayConfigError       bad scope or options (unknown doc type, bad tenant id,
    │                           an unfinished replay of another scope is in the way)
    ├── ReplayInterrupted       stopped on request (Ctrl-C); the replay resumes on the next run
    └── HandoverTimeout         the live pipeline did not follow the switched alias in time
"""

from __future__ import annotations


class ReplayError(Exception):
    """Root of every error raised by ``rustok.replay``."""


class ReplayConfigError(ReplayError):
    """The replay cannot run as asked; nothing was written."""


class ReplayInterrupted(ReplayError):
    """The replay stopped on request; its slot and state stay for a resume."""


class HandoverTimeout(ReplayError):
    """The live pipeline did not write the new version within the handover timeout."""
