"""Errors of the embedded CDC connector.

Errors::

    EmbeddedConnectorError
     ├── ProtocolError            a pgoutput message that cannot be decoded
     ├── ValueConversionError     a column value that cannot be converted to Debezium's form
     ├── CatalogError             a published table or type the connector cannot describe
     │    └── PublicationMissing  the publication does not exist in the database
     ├── SlotError                the replication slot cannot be used
     │    ├── SlotInUse           another consumer is streaming from the slot
     │    └── SlotInvalidated     the slot fell behind max_slot_wal_keep_size; a new snapshot is needed
     └── ReplicationError         the replication connection failed while streaming
"""

from __future__ import annotations


class EmbeddedConnectorError(Exception):
    """Root of the embedded connector's errors."""


class ProtocolError(EmbeddedConnectorError):
    """A pgoutput message is truncated, malformed or of an unknown kind."""


class ValueConversionError(EmbeddedConnectorError):
    """A text value does not parse as its column type says it should."""


class CatalogError(EmbeddedConnectorError):
    """The catalog does not describe a table or type the stream refers to."""


class PublicationMissing(CatalogError):
    """The configured publication does not exist in the database."""


class SlotError(EmbeddedConnectorError):
    """The replication slot is missing, invalidated or otherwise unusable."""


class SlotInUse(SlotError):
    """Another walsender is already streaming from the slot (one consumer per slot)."""


class SlotInvalidated(SlotError):
    """PostgreSQL invalidated the slot (``wal_status = 'lost'``): the WAL it needed is gone.

    The changes between the slot's position and now can no longer be read; the only way
    on is a new slot with a fresh snapshot (drop the slot, reset the consumer's state).
    """


class ReplicationError(EmbeddedConnectorError):
    """The replication connection broke or the server refused a replication command."""
