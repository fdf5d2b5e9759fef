"""The change-event archive: CDC events as Parquet, and rebuilds from it at any moment.

``archive_embedded`` (a replication slot of its own) and ``archive_kafka`` (the
Debezium topics, consumer group ``rustok-archive``) write hive-partitioned Parquet
parts (``table=<table>/date=<YYYY-MM-DD>``); ``replay_archive`` rebuilds the read
model as it was at a moment from those parts alone, into a new index version.
Errors derive from :class:`ArchiveError` (tree in ``errors``).
"""

from __future__ import annotations

from .embedded import ArchiveRunReport, EmbeddedArchiveOptions, archive_embedded
from .kafka import GROUP, KafkaArchiveOptions, archive_kafka
from .errors import ArchiveError, ArchiveGap, ArchiveLayoutError, ArchiveReplayError
from .parts import Manifest, read_manifest
from .replay import ArchiveReplayReport, replay_archive
from .rows import SCHEMA, event_of, flatten

__all__ = [
    "SCHEMA",
    "ArchiveError",
    "ArchiveGap",
    "ArchiveLayoutError",
    "ArchiveReplayError",
    "ArchiveReplayReport",
    "ArchiveRunReport",
    "EmbeddedArchiveOptions",
    "GROUP",
    "KafkaArchiveOptions",
    "Manifest",
    "archive_embedded",
    "archive_kafka",
    "event_of",
    "flatten",
    "read_manifest",
    "replay_archive",
]
