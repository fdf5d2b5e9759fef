"""Embedded CDC connector: Debezium 3.2.7's PostgreSQL change events without Kafka Connect.

Streams a pgoutput replication slot in-process, takes a consistent initial snapshot
from the slot's exported snapshot, converts values exactly as Debezium does under
RusToK's connector settings and hands whole transactions to a :class:`ChangeConsumer`.
Incremental snapshots requested through the signal table run while it streams
(:mod:`.incremental`).
Errors derive from :class:`EmbeddedConnectorError` (tree in ``errors``).
"""

from __future__ import annotations

from .connector import ConnectorConfig, EmbeddedConnector
from .envelope import DEBEZIUM_VERSION, EnvelopeBuilder
from .errors import (
    CatalogError,
    EmbeddedConnectorError,
    ProtocolError,
    PublicationMissing,
    ReplicationError,
    SlotError,
    SlotInUse,
    SlotInvalidated,
    ValueConversionError,
)
from .incremental import IncrementalSnapshots, TableProgress
from .lag import SlotLag, pending_changes, read_slot_lag
from .memory import InMemoryConsumer
from .records import CaughtUpListener, ChangeConsumer, ChangeRecord, SnapshotWatcher

__all__ = [
    "DEBEZIUM_VERSION",
    "CatalogError",
    "CaughtUpListener",
    "ChangeConsumer",
    "ChangeRecord",
    "ConnectorConfig",
    "EmbeddedConnector",
    "EmbeddedConnectorError",
    "EnvelopeBuilder",
    "InMemoryConsumer",
    "IncrementalSnapshots",
    "ProtocolError",
    "PublicationMissing",
    "ReplicationError",
    "SlotError",
    "SlotInUse",
    "SlotInvalidated",
    "SlotLag",
    "SnapshotWatcher",
    "TableProgress",
    "ValueConversionError",
    "pending_changes",
    "read_slot_lag",
]
