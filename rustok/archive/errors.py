"""Errors of the change-event archive.

Tree::

    ArchiveError
    ├── ArchiveLayoutError      the directory is not an archive, or a part is unreadable
    ├── ArchiveGap              the source can no longer continue where the archive ends
    └── ArchiveReplayError      a rebuild was asked for something it cannot do safely
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Root of every archive error."""


class ArchiveLayoutError(ArchiveError):
    """The archive directory or one of its files is not what the writer produces."""


class ArchiveGap(ArchiveError):
    """Continuing would leave changes out of the archive (a lost or missing slot)."""


class ArchiveReplayError(ArchiveError):
    """A rebuild request that would damage the read model or cannot be satisfied."""
