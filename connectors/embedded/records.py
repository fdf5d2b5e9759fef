"""What the connector hands to its consumer, and the consumer port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One Kafka-style record: a change event, a tombstone or a transaction marker.

    Parameters:
        topic: ``<prefix>.<schema>.<table>`` or ``<prefix>.transaction``.
        key: the JSON key (primary key columns, or ``{"id": ...}``); None when the table
            has no primary key.
        value: the JSON value; None for a tombstone.
        lsn: ``source.lsn`` of the change (the LSN of the BEGIN/COMMIT message for
            transaction markers; the slot's consistent point for snapshot reads).
        commit_lsn: the position that becomes durable with this record: the end LSN of
            its transaction, or for a snapshot the consistent point on its last record
            only. None means this record alone does not complete anything.
        headers: Kafka headers Debezium adds (``__debezium.newkey``/``__debezium.oldkey``
            when an update changes the primary key).
    """

    topic: str
    key: dict[str, Any] | None
    value: dict[str, Any] | None
    lsn: int
    commit_lsn: int | None
    headers: tuple[tuple[str, Any], ...] = field(default=())


class ChangeConsumer(Protocol):
    """Where the connector delivers records; the consumer decides what is durable.

    The connector confirms to PostgreSQL only LSNs this port reports as durable, so a
    crash before that point replays the same records again (at-least-once).

    A consumer may also implement :class:`CaughtUpListener` (``caught_up(lsn)``); the
    connector looks for that method and calls it only if it exists.
    """

    def deliver(self, batch: Sequence[ChangeRecord]) -> None:
        """Accept one batch: whole transactions in commit order, or a slice of the snapshot.

        Parameters:
            batch: records in order. Returning means accepted, not necessarily durable.
        """

    def durable_lsn(self) -> int | None:
        """The highest ``commit_lsn`` whose records (and all before them) are durable.

        None when nothing has ever been made durable (a fresh consumer: the connector
        then takes a new snapshot).
        """


class CaughtUpListener(Protocol):
    """The optional part of a consumer: told how far the stream is known to be complete."""

    def caught_up(self, lsn: int) -> None:
        """Every transaction that committed at or below ``lsn`` has been delivered.

        Called from the connector's thread, between transactions, after ``deliver``
        returned for all of them, with increasing ``lsn``; also while idle, so a
        consistency token (``pg_current_wal_lsn()`` after a commit) is reached within
        about ``idle_reply_interval`` even when nothing else is written.
        """


class SnapshotWatcher(Protocol):
    """The optional part of a consumer that does long work inside one ``deliver`` of a
    snapshot (building every root at its end): it is handed the connector's slot check."""

    def watch_snapshot(self, check: Callable[[], None] | None) -> None:
        """While a snapshot runs, ``check`` (None once it ended) raises
        :class:`~.errors.SlotInvalidated` if the slot was invalidated meanwhile, and warns
        when it nears that; it looks at the server at most every ``slot_watch_interval``
        seconds, so it may be called often. Call it from inside ``deliver``, between
        pieces of long work; the exception must propagate out of ``deliver``.
        """
